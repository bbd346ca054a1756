"""`{{dot.path}}` placeholders filled from a run context."""

from __future__ import annotations

from typing import Any

import pytest

from domain.workflows.render import malformed_placeholder, render, render_config

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
