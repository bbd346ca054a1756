"""Every validation rule of a workflow definition, with the JSONPath of each error."""

from __future__ import annotations

from typing import Any

import pytest

from domain.workflows.model import definition_from
from domain.workflows.rules import InvalidDefinition, check, parse
from tests.workflow_docs import valid, with_value
from tests.workflow_rule_cases import CASES


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
