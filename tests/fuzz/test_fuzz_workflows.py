"""Fuzz workflows: definitions mutated from a valid one through validateWorkflow, createWorkflow and
updateWorkflow (as variables and as literals), and the webhook trigger's bodies and headers."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote, urlencode

from hypothesis import strategies as st

from tests.fuzz.strategies import (
    AUTHENTICATED,
    NASTY,
    header_values,
    json_values,
    literal,
    mutated,
    names_only,
    raw_bodies,
    text,
)
from tests.fuzz.support import Target, fuzz
from tests.workflow_docs import valid

VALIDATE = (
    "query($d: JSON!) { validateWorkflow(definition: $d) { valid errors { message field } } }"
)
CREATE = """mutation($d: JSON!) { createWorkflow(definition: $d) { __typename
  ... on Workflow { id } ... on InvalidWorkflow { message field } } }"""
UPDATE = """mutation($id: ID!, $d: JSON!) { updateWorkflow(id: $id, definition: $d) { __typename
  ... on Workflow { id } ... on InvalidWorkflow { message field } } }"""
DELETE = "mutation($id: ID!) { deleteWorkflow(id: $id) }"
HOOK = "fuzz-hook"
# The trigger's workflow: a Slack step (the sandbox vendor) reading the posted body.
TRIGGERED = {
    "name": "fuzzed trigger",
    "triggers": [{"type": "webhook", "config": {"key": HOOK}}],
    "steps": [
        {
            "id": "say",
            "type": "slack.send",
            "config": {"channel": "#ops", "message": "got {{body.order}} {{body.x.y}}"},
        }
    ],
}
# Disabled, so fuzzed cron schedules never start runs while the suite goes on; their webhook
# keys are not the trigger test's, which an update could otherwise take over.
DEFINITIONS = [
    valid(enabled=False),
    {**TRIGGERED, "enabled": False, "triggers": [{"type": "webhook", "config": {"key": "defs"}}]},
]


def _created_id(answer: Any) -> str | None:
    result = ((answer or {}).get("data") or {}).get("createWorkflow") or {}
    return result.get("id") if result.get("__typename") == "Workflow" else None


def test_definitions(app: Target) -> None:
    first = _created_id(app.graphql(CREATE, {"d": valid(name="to update", enabled=False)}))
    assert first, "the valid definition was refused"

    def send(value: tuple[str, Any, bool]) -> None:
        operation, definition, inline = value
        if inline:
            app.graphql(
                f"{{ validateWorkflow(definition: {literal(names_only(definition))}) {{ valid }} }}"
            )
        elif operation == "validate":
            app.graphql(VALIDATE, {"d": definition})
        elif operation == "update":
            app.graphql(UPDATE, {"id": first, "d": definition})
        else:
            created = _created_id(app.graphql(CREATE, {"d": definition}))
            if created:  # keep the table small; deleting is fuzzed input of its own
                app.graphql(DELETE, {"id": created})

    definitions = st.one_of(mutated(DEFINITIONS), json_values)
    operations = st.sampled_from(["validate", "validate", "create", "update"])
    fuzz(app, "workflow definitions", 0.12, st.tuples(operations, definitions, st.booleans()), send)


form_bodies = st.one_of(
    st.dictionaries(text, text, max_size=5).map(
        lambda d: urlencode({k.replace("\ud800", ""): v for k, v in d.items()}, errors="replace")
    ),
    st.sampled_from(["a=1&a=2", "&&&", "=", "%", "%zz=%ff", "a=%00", "x" * 3000]),
).map(lambda s: s.encode("utf-8", "surrogatepass"))
content_types = st.sampled_from(
    [
        b"application/json",
        b"application/json; charset=latin-1",
        b"APPLICATION/JSON",
        b"application/x-www-form-urlencoded",
        b"application/x-www-form-urlencoded; charset=utf-8",
        b"multipart/form-data; boundary=x",
        b"text/plain",
        b"",
        b";",
    ]
)
trigger_keys = st.one_of(
    st.just(HOOK), st.just(HOOK), st.just(HOOK), st.sampled_from(NASTY), st.text(max_size=20)
)


def test_trigger_bodies_and_headers(app: Target) -> None:
    assert _created_id(app.graphql(CREATE, {"d": TRIGGERED})), "the trigger workflow was refused"

    def send(value: tuple[str, bytes, dict[str, bytes], bool]) -> None:
        hook, body, extra, authenticated = value
        headers = {**app.headers(), **extra} if authenticated else extra
        url = "/api/v1/triggers/" + quote(hook.encode("utf-8", "surrogatepass"), safe="")
        app.check(app.client.post(url, content=body, headers=headers))

    bodies = st.one_of(raw_bodies([{"order": "IL1", "x": {"y": 1}}]), form_bodies)
    headers = st.fixed_dictionaries(
        {
            "Idempotency-Key": st.one_of(
                st.uuids().map(lambda u: str(u).encode()),
                st.uuids().map(lambda u: str(u).encode()),
                st.sampled_from([b"k1", b"k2"]),
                header_values,
            )
        },
        optional={"Content-Type": content_types, "Content-Length": st.sampled_from([b"1", b"x"])},
    )
    strategy = st.tuples(trigger_keys, bodies, headers, AUTHENTICATED)
    fuzz(app, "trigger bodies and headers", 0.08, strategy, send)
