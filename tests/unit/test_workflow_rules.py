"""Every validation rule of a workflow definition, with the JSONPath of each error."""

from __future__ import annotations

from typing import Any

import pytest

from domain.workflows.model import definition_from
from domain.workflows.rules import InvalidDefinition, check, parse
from tests.workflow_docs import valid, with_value

S0, T2 = ["steps", 0], ["triggers", 2]

CASES: list[tuple[str, list[Any], Any, str, str]] = [
    # (rule, path to change, new value, expected JSONPath, part of the message)
    ("name required", ["name"], ..., "$.name", "is required"),
    ("name not empty", ["name"], "", "$.name", "must not be empty"),
    ("name at most 100", ["name"], "n" * 101, "$.name", "at most 100"),
    ("name a string", ["name"], 5, "$.name", "must be a string"),
    ("description at most 500", ["description"], "d" * 501, "$.description", "at most 500"),
    ("enabled boolean", ["enabled"], "yes", "$.enabled", "must be a boolean"),
    ("variables object", ["variables"], [], "$.variables", "must be an object"),
    ("unknown field", ["owner"], "me", "$.owner", "not a known field"),
    ("triggers required", ["triggers"], ..., "$.triggers", "is required"),
    ("at least 1 trigger", ["triggers"], [], "$.triggers", "at least 1"),
    ("at most 10 triggers", ["triggers"], [{"type": "manual"}] * 11, "$.triggers", "at most 10"),
    ("trigger type", ["triggers", 0, "type"], "email", "$.triggers[0].type", "one of webhook"),
    ("webhook key required", ["triggers", 1, "config"], {}, "$.triggers[1].config.key", "required"),
    (
        "webhook key pattern",
        ["triggers", 1, "config", "key"],
        "a b",
        "$.triggers[1].config.key",
        "must match",
    ),
    ("cron schedule required", [*T2, "config"], {}, "$.triggers[2].config.schedule", "required"),
    (
        "cron 5 fields",
        [*T2, "config", "schedule"],
        "0 9 * * * *",
        "$.triggers[2].config.schedule",
        "5-field",
    ),
    (
        "cron minute range",
        [*T2, "config", "schedule"],
        "60 * * * *",
        "$.triggers[2].config.schedule",
        "5-field",
    ),
    (
        "cron hour range",
        [*T2, "config", "schedule"],
        "0 24 * * *",
        "$.triggers[2].config.schedule",
        "5-field",
    ),
    (
        "cron month range",
        [*T2, "config", "schedule"],
        "0 0 1 13 *",
        "$.triggers[2].config.schedule",
        "5-field",
    ),
    (
        "cron nonsense",
        [*T2, "config", "schedule"],
        "every day",
        "$.triggers[2].config.schedule",
        "5-field",
    ),
    (
        "time zone",
        [*T2, "config", "timezone"],
        "Mars/Olympus",
        "$.triggers[2].config.timezone",
        "IANA",
    ),
    ("steps required", ["steps"], ..., "$.steps", "is required"),
    ("at least 1 step", ["steps"], [], "$.steps", "at least 1"),
    (
        "at most 50 steps",
        ["steps"],
        [{"id": f"s{i}", "type": "delay", "config": {"seconds": 0}} for i in range(51)],
        "$.steps",
        "at most 50",
    ),
    ("step id required", [*S0, "id"], ..., "$.steps[0].id", "is required"),
    ("step id pattern", [*S0, "id"], "tell team", "$.steps[0].id", "must match"),
    ("step id at most 50", [*S0, "id"], "x" * 51, "$.steps[0].id", "at most 50"),
    ("step type", [*S0, "type"], "sms.send", "$.steps[0].type", "one of whatsapp.send"),
    ("unknown step field", [*S0, "when"], "always", "$.steps[0].when", "not a known field"),
    ("retries at least 0", [*S0, "retries"], -1, "$.steps[0].retries", "at least 0"),
    ("retries at most 10", [*S0, "retries"], 11, "$.steps[0].retries", "at most 10"),
    ("retries integer", [*S0, "retries"], 1.5, "$.steps[0].retries", "integer"),
    ("timeout at least 1", [*S0, "timeout"], 0, "$.steps[0].timeout", "at least 1"),
    ("timeout at most 300", [*S0, "timeout"], 301, "$.steps[0].timeout", "at most 300"),
    ("config required", [*S0, "config"], ..., "$.steps[0].config", "is required"),
    (
        "slack channel required",
        [*S0, "config", "channel"],
        ...,
        "$.steps[0].config.channel",
        "required",
    ),
    (
        "slack channel # or @",
        [*S0, "config", "channel"],
        "ops",
        "$.steps[0].config.channel",
        "start with #",
    ),
    (
        "slack message required",
        [*S0, "config", "message"],
        ...,
        "$.steps[0].config.message",
        "required",
    ),
    (
        "placeholder well formed",
        [*S0, "config", "message"],
        "Order {{order id}}",
        "$.steps[0].config.message",
        "malformed placeholder",
    ),
    ("delay seconds required", ["steps", 1, "config"], {}, "$.steps[1].config.seconds", "required"),
    (
        "delay at most 300",
        ["steps", 1, "config", "seconds"],
        301,
        "$.steps[1].config.seconds",
        "at most 300",
    ),
    (
        "delay shorter than timeout",
        ["steps", 1, "config", "seconds"],
        30,
        "$.steps[1].config.seconds",
        "shorter than the step's timeout",
    ),
    (
        "email recipient required",
        ["steps", 2, "config", "recipient"],
        ...,
        "$.steps[2].config.recipient",
        "required",
    ),
    (
        "email recipient an address",
        ["steps", 2, "config", "recipient"],
        "ops at example",
        "$.steps[2].config.recipient",
        "email address",
    ),
    (
        "email subject required",
        ["steps", 2, "config", "subject"],
        ...,
        "$.steps[2].config.subject",
        "required",
    ),
    (
        "whatsapp contact required",
        ["steps", 3, "config", "contact"],
        ...,
        "$.steps[3].config.contact",
        "required",
    ),
    (
        "whatsapp contact E.164 plus",
        ["steps", 3, "config", "contact"],
        "972501234567",
        "$.steps[3].config.contact",
        "E.164",
    ),
    (
        "whatsapp contact a real number",
        ["steps", 3, "config", "contact"],
        "+9720000",
        "$.steps[3].config.contact",
        "E.164",
    ),
    (
        "whatsapp template required",
        ["steps", 3, "config", "template"],
        ...,
        "$.steps[3].config.template",
        "required",
    ),
    (
        "pdf template required",
        ["steps", 4, "config", "template"],
        ...,
        "$.steps[4].config.template",
        "required",
    ),
    (
        "pdf template not empty",
        ["steps", 4, "config", "template"],
        "",
        "$.steps[4].config.template",
        "must not be empty",
    ),
]


def test_the_sample_is_valid() -> None:
    assert check(valid()) == []


@pytest.mark.parametrize(
    ("path", "value", "at", "message"),
    [c[1:] for c in CASES],
    ids=[c[0] for c in CASES],
)
def test_each_rule_names_the_path_at_fault(
    path: list[Any], value: Any, at: str, message: str
) -> None:
    issues = check(with_value(path, value))
    assert {i.path for i in issues} == {at}, issues
    assert any(message in i.message for i in issues), issues


def test_duplicate_step_ids_point_at_the_second() -> None:
    doc = valid()
    doc["steps"][2]["id"] = "tell-team"
    assert [(i.path, i.message) for i in check(doc)] == [
        ("$.steps[2].id", "duplicate step id 'tell-team' (see $.steps[0])")
    ]


def test_duplicate_trigger_keys_and_schedules() -> None:
    doc = valid()
    doc["triggers"] += [doc["triggers"][1], doc["triggers"][2]]
    assert [i.path for i in check(doc)] == [
        "$.triggers[3].config.key",
        "$.triggers[4].config.schedule",
    ]


@pytest.mark.parametrize(
    ("path", "value", "at"),
    [
        (["triggers", 0, "type"], [], "$.triggers[0].type"),
        (["triggers", 1, "type"], {"webhook": 1}, "$.triggers[1].type"),
        (["triggers", 2, "config", "schedule"], ["0 9 * * *"], "$.triggers[2].config.schedule"),
        (["triggers", 2, "config", "timezone"], {"tz": "UTC"}, "$.triggers[2].config.timezone"),
    ],
)
def test_unhashable_trigger_values_are_issues_not_crashes(
    path: list[Any], value: Any, at: str
) -> None:
    """Found by the fuzz suite: a list or object here raised TypeError (unhashable), INTERNAL."""
    assert at in {i.path for i in check(with_value(path, value))}


def test_every_error_is_reported_not_only_the_first() -> None:
    doc = valid(name="", triggers=[{"type": "cron", "config": {"schedule": "x", "timezone": "Y"}}])
    doc["steps"][0]["config"]["channel"] = "ops"
    doc["steps"][1]["retries"] = 99
    paths = {i.path for i in check(doc)}
    assert paths == {
        "$.name",
        "$.triggers[0].config.schedule",
        "$.triggers[0].config.timezone",
        "$.steps[0].config.channel",
        "$.steps[1].retries",
    }


@pytest.mark.parametrize("document", [None, [], "workflow", 3])
def test_a_document_that_is_not_an_object(document: Any) -> None:
    assert [i.path for i in check(document)] == ["$"]


@pytest.mark.parametrize(
    ("schedule", "zone"),
    [("*/5 * * * *", "UTC"), ("0 0 1,15 * 0-7", "Europe/Stockholm"), ("30 8 * 1-6 MON", None)],
)
def test_valid_cron_expressions(schedule: str, zone: str | None) -> None:
    config: dict[str, Any] = {"schedule": schedule}
    if zone:
        config["timezone"] = zone
    assert check(valid(triggers=[{"type": "cron", "config": config}])) == []


def test_placeholders_defer_format_checks_to_run_time() -> None:
    doc = valid()
    doc["steps"][3]["config"]["contact"] = "{{order.phone}}"
    doc["steps"][0]["config"]["channel"] = "{{variables.team}}"
    assert check(doc) == []


def test_parse_fills_defaults_and_raises_with_every_issue() -> None:
    definition = parse(valid())
    assert definition_from(valid()) == definition
    first = definition.steps[0]
    assert (first.retries, first.timeout_s) == (3, 30)
    assert (definition.steps[2].retries, definition.steps[2].timeout_s) == (2, 10)
    assert definition.triggers[0].timezone == "UTC"
    assert definition.webhook_keys() == ["follow-up"]
    with pytest.raises(InvalidDefinition) as raised:
        parse(valid(name="", steps=[]))
    assert [i.path for i in raised.value.issues] == ["$.name", "$.steps"]
    assert raised.value.field == "$.name"
