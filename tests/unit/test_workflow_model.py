"""A workflow definition as parsed: defaults, triggers by kind, and the phone and email checks."""

from __future__ import annotations

import pytest

from domain.workflows.model import DEFAULT_TIMEZONE, Trigger, definition_from
from domain.workflows.rules import valid_email, valid_phone
from domain.workflows.schema import DEFAULT_RETRIES, DEFAULT_TIMEOUT_S
from tests.workflow_docs import valid

MINIMAL = {
    "name": "n",
    "triggers": [{"type": "cron", "config": {"schedule": "0 9 * * *"}}],
    "steps": [{"id": "w", "type": "delay"}],
}


def test_a_minimal_document_gets_the_defaults() -> None:
    parsed = definition_from(MINIMAL)
    assert (parsed.description, parsed.enabled, parsed.variables) == (None, True, {})
    (step,) = parsed.steps
    assert (step.config, step.retries, step.timeout_s) == ({}, DEFAULT_RETRIES, DEFAULT_TIMEOUT_S)


def test_a_cron_trigger_without_a_zone_runs_in_utc() -> None:
    (trigger,) = definition_from(MINIMAL).triggers
    assert trigger == Trigger("cron", schedule="0 9 * * *", timezone=DEFAULT_TIMEZONE)


def test_a_step_keeps_its_retries_and_timeout() -> None:
    mail = definition_from(valid()).steps[2]
    assert (mail.id, mail.retries, mail.timeout_s) == ("mail", 2, 10)


def test_webhook_keys_are_those_of_webhook_triggers() -> None:
    doc = valid(triggers=[{"type": "webhook", "config": {"key": "a"}}, {"type": "manual"}])
    assert definition_from(doc).webhook_keys() == ["a"]


@pytest.mark.parametrize(("kind", "has"), [("cron", True), ("manual", True), ("email", False)])
def test_has_trigger_by_kind(kind: str, has: bool) -> None:
    assert definition_from(valid()).has_trigger(kind) is has


def test_the_parsed_config_is_a_copy_of_the_document() -> None:
    doc = valid()
    parsed = definition_from(doc)
    doc["steps"][0]["config"]["channel"] = "#changed"
    assert parsed.steps[0].config["channel"] == "#ops"


@pytest.mark.parametrize(
    ("phone", "ok"),
    [
        ("+972501234567", True),
        ("+14155550100", True),
        ("972501234567", False),  # no plus
        ("+0501234567", False),  # no country code starts with 0
        ("+97250123456789012", False),  # longer than E.164 allows
        ("+972 50 123 4567", False),  # spaces
        ("+9991234567", False),  # not a country code
    ],
)
def test_phones_are_e164(phone: str, ok: bool) -> None:
    assert valid_phone(phone) is ok


@pytest.mark.parametrize(
    ("email", "ok"),
    [
        ("ops@example.com", True),
        ("a.b+c@sub.example.co.il", True),
        ("ops@example", False),
        ("ops@example.c", False),
        ("ops example@x.com", False),
        ("@example.com", False),
        ("a@b@example.com", False),
        ("a" * 250 + "@x.io", False),
    ],
)
def test_emails(email: str, ok: bool) -> None:
    assert valid_email(email) is ok
