"""`{{dot.path}}` placeholders filled from a run context."""

from __future__ import annotations

from typing import Any

import pytest

from domain.workflows.render import (
    has_placeholder,
    lookup,
    malformed_placeholder,
    render,
    render_config,
)

CONTEXT = {
    "order": {"id": "IL1", "amount": 120.5, "paid": True, "items": [{"name": "ETA"}]},
    "body": None,
}


@pytest.mark.parametrize(
    ("template", "expected"),
    [
        ("Order {{order.id}}", "Order IL1"),
        ("Order {{ order.id }} of {{order.amount}}", "Order IL1 of 120.5"),
        ("{{order.items.0.name}}!", "ETA!"),
        ("paid: {{order.paid}}", "paid: true"),
        ("{{order.missing}} stays", "{{order.missing}} stays"),
        ("{{order.items.5.name}}", "{{order.items.5.name}}"),
        ("[{{body}}]", "[]"),
        ("{{order.amount}}", 120.5),  # one placeholder alone keeps the value's type
        ("{{order.items}}", [{"name": "ETA"}]),
        ("no placeholders", "no placeholders"),
    ],
)
def test_render_strings(template: str, expected: Any) -> None:
    assert render(template, CONTEXT) == expected


def test_render_recurses_into_lists_and_dicts() -> None:
    assert render({"a": ["{{order.id}}", {"b": "x{{order.id}}"}], "n": 3}, CONTEXT) == {
        "a": ["IL1", {"b": "xIL1"}],
        "n": 3,
    }


@pytest.mark.parametrize(
    ("text", "bad"),
    [
        ("{{a.b}}", None),
        ("a {{ b }} c", None),
        ("{{a b}}", "{{a b}}"),
        ("x {{", "{{"),
        ("{{a.b}} {{c", "{{c"),
    ],
)
def test_malformed_placeholders(text: str, bad: str | None) -> None:
    assert malformed_placeholder(text) == bad


HOSTILE = {"body": {"name": '<img src="file:///etc/passwd"><b>x</b> & "q"', "n": 3}}


def test_a_pdf_template_gets_its_values_as_text() -> None:
    config = {"template": "<p>{{body.name}}</p>", "filename": "r-{{body.n}}"}
    assert render_config("pdf.generate", config, HOSTILE) == {
        "template": "<p>&lt;img src=&quot;file:///etc/passwd&quot;&gt;&lt;b&gt;x&lt;/b&gt;"
        " &amp; &quot;q&quot;</p>",
        "filename": "r-3",
    }
    # A lone placeholder is escaped too, instead of passing the value through as it is.
    lone = render_config("pdf.generate", {"template": "{{body.name}}"}, HOSTILE)
    assert lone["template"].startswith("&lt;img")


@pytest.mark.parametrize("step_type", ["slack.send", "email.send", "whatsapp.send"])
def test_text_steps_keep_their_values_as_they_are(step_type: str) -> None:
    config = {"message": "hi {{body.name}}", "count": "{{body.n}}"}
    assert render_config(step_type, config, HOSTILE) == {
        "message": 'hi <img src="file:///etc/passwd"><b>x</b> & "q"',
        "count": 3,
    }


MISSING = lookup({}, "absent")


@pytest.mark.parametrize(
    ("path", "found"), [("order.items.0", {"name": "ETA"}), ("order.items.0.name", "ETA")]
)
def test_lookup_walks_dicts_and_list_indexes(path: str, found: Any) -> None:
    assert lookup(CONTEXT, path) == found


def test_a_present_null_is_found_as_none() -> None:
    assert lookup(CONTEXT, "body") is None


@pytest.mark.parametrize(
    "path",
    [
        "order.items.-1",  # only digits index a list
        "order.id.0",  # a string is not indexed into
        "order.amount.x",
        "order.items.1",
    ],
)
def test_lookup_of_what_is_not_there_is_the_missing_marker(path: str) -> None:
    assert lookup(CONTEXT, path) is MISSING


def test_a_lone_missing_placeholder_stays_as_written_with_its_spaces() -> None:
    assert render("  {{ order.nope }} ", CONTEXT) == "  {{ order.nope }} "


def test_a_lone_placeholder_with_an_escape_is_text() -> None:
    assert render("{{order.amount}}", CONTEXT, escape=str.upper) == "120.5"


def test_none_and_false_fill_as_empty_and_false_inside_text() -> None:
    assert render("[{{body}}|{{flag}}]", {"body": None, "flag": False}) == "[|false]"


def test_tuples_render_as_lists_and_other_values_pass_through() -> None:
    assert render(("{{order.id}}", 1, None), CONTEXT) == ["IL1", 1, None]


def test_has_placeholder_needs_a_well_formed_one() -> None:
    assert has_placeholder("x {{a.b}}")
    assert not has_placeholder("x {{a b}} {{")


def test_a_malformed_placeholder_is_quoted_at_most_thirty_characters() -> None:
    assert malformed_placeholder("{{" + "x " * 40) == ("{{" + "x " * 40)[:30]


def test_render_config_fills_every_field_of_a_step() -> None:
    config = {"channel": "#ops", "message": "{{order.id}}", "n": 2}
    assert render_config("slack.send", config, CONTEXT) == {
        "channel": "#ops",
        "message": "IL1",
        "n": 2,
    }
