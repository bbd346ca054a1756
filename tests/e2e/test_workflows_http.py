"""Workflows over HTTP, lifespan running (embedded and production): GraphQL definitions and
runs, the webhook trigger's rules (permission, Idempotency-Key, size cap, 202 with the run id)."""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.auth import codes, key, with_auth
from tests.e2e.gql_support import gql_data
from tests.waiting import eventually
from tests.workflow_docs import valid
from visapi.asgi import create_app
from visapi.settings import Settings

ERRORS = "errors { message field }"
CREATE = f"""mutation($d: JSON!) {{ createWorkflow(definition: $d) {{ __typename
  ... on Workflow {{ id name enabled }} ... on InvalidWorkflow {{ message field {ERRORS} }} }} }}"""
UPDATE = f"""mutation($id: ID!, $d: JSON!) {{ updateWorkflow(id: $id, definition: $d) {{
  __typename ... on Workflow {{ name }} ... on InvalidWorkflow {{ {ERRORS} }} }} }}"""
VALIDATE = f"query($d: JSON!) {{ validateWorkflow(definition: $d) {{ valid {ERRORS} }} }}"
LIST = "query($e: Boolean) { workflows(enabled: $e) { totalCount edges { node { name } } } }"
RUN = """mutation($id: ID!, $c: JSON) { runWorkflow(id: $id, context: $c) { id status
  triggerType steps { stepId status } } }"""
RUN_STATE = """query($id: ID!) { workflowRun(id: $id) { status triggerType triggerKey context
  steps { stepId type status attempts output error durationMs } } }"""
RUNS = """query($f: WorkflowRunFilter) { workflowRuns(filter: $f) { totalCount
  edges { node { id status } } } }"""
CANCEL = "mutation($id: ID!) { cancelWorkflowRun(id: $id) { status } }"
ENABLE = "mutation($id: ID!, $e: Boolean!) { setWorkflowEnabled(id: $id, enabled: $e) { enabled } }"
DELETE = "mutation($id: ID!) { deleteWorkflow(id: $id) }"

ONE_STEP = {
    "name": "hook",
    "triggers": [{"type": "webhook", "config": {"key": "visa-ready"}}, {"type": "manual"}],
    "steps": [
        {
            "id": "say",
            "type": "slack.send",
            "config": {"channel": "#ops", "message": "ready: {{body.order}}"},
        }
    ],
}


@asynccontextmanager
async def serving(settings: Settings, *scopes: str) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(with_auth(settings))
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url="http://test") as client,
    ):
        client.headers["X-API-Key"] = await key(app.state.container, *scopes)
        client.app = app  # type: ignore[attr-defined]
        yield client


@pytest.fixture
def wf_settings(app_settings: Settings, tmp_path: Path) -> Settings:
    return dataclasses.replace(
        app_settings,
        pdf_dir=str(tmp_path),
        workflow_step_backoff_s=0.01,
        trigger_max_body_bytes=2048,
    )


ALL = ("workflows:read", "workflows:write", "workflows:run")
# Run contexts, step outputs and errors may carry an order's personal data (graph.personal).
RUNS_IN_FULL = (*ALL, "orders:read")


async def test_definitions_through_graphql(wf_settings: Settings) -> None:
    async with serving(wf_settings, *ALL) as client:
        bad = valid(name="")
        bad["steps"][0]["config"]["channel"] = "ops"
        refused = (await gql_data(client, CREATE, d=bad))["createWorkflow"]
        assert refused["__typename"] == "InvalidWorkflow"
        assert refused["field"] == "$.name"
        assert [e["field"] for e in refused["errors"]] == ["$.name", "$.steps[0].config.channel"]
        check = (await gql_data(client, VALIDATE, d=bad))["validateWorkflow"]
        assert (check["valid"], len(check["errors"])) == (False, 2)
        assert (await gql_data(client, VALIDATE, d=valid()))["validateWorkflow"] == {
            "valid": True,
            "errors": [],
        }

        made = (await gql_data(client, CREATE, d=valid()))["createWorkflow"]
        assert (made["__typename"], made["enabled"]) == ("Workflow", True)
        taken = (await gql_data(client, CREATE, d=valid(name="copy")))["createWorkflow"]
        assert taken["errors"][0]["field"] == "$.triggers[1].config.key"
        renamed = await gql_data(client, UPDATE, id=made["id"], d=valid(name="renamed"))
        assert renamed["updateWorkflow"] == {"__typename": "Workflow", "name": "renamed"}
        await gql_data(client, ENABLE, id=made["id"], e=False)
        assert (await gql_data(client, LIST, e=True))["workflows"]["totalCount"] == 0
        assert (await gql_data(client, LIST))["workflows"]["edges"] == [
            {"node": {"name": "renamed"}}
        ]
        assert (await gql_data(client, DELETE, id=made["id"]))["deleteWorkflow"] is True


async def test_a_reader_cannot_write_or_run(wf_settings: Settings) -> None:
    async with serving(wf_settings, "workflows:read") as client:
        response = await client.post(
            "/graphql", json={"query": CREATE, "variables": {"d": valid()}}
        )
        assert codes(response) == ["FORBIDDEN"]
        trigger = await client.post(
            "/api/v1/triggers/visa-ready", json={}, headers={"Idempotency-Key": "k1"}
        )
        assert trigger.status_code == 403


async def wait_for(client: httpx.AsyncClient, run_id: str, status: str) -> Any:
    last: dict[str, Any] = {}

    async def reached() -> Any:
        last.update((await gql_data(client, RUN_STATE, id=run_id))["workflowRun"])
        return dict(last) if last["status"] == status else None

    return await eventually(reached, why=lambda: f"run stayed {last.get('status')}")


async def test_nul_in_a_run_context_is_stored_replaced(wf_settings: Settings) -> None:
    """Found by the fuzz suite: a trigger body or runWorkflow context holding U+0000 answered 500
    on PostgreSQL (JSONB refuses it). It is replaced as in an order's body, on both dialects."""
    async with serving(wf_settings, *ALL, "orders:read") as client:  # a run's context is PII
        workflow = (await gql_data(client, CREATE, d=ONE_STEP))["createWorkflow"]
        url = "/api/v1/triggers/visa-ready"
        for form in (False, True):
            if form:
                sent = {"content": b"order=IL%001", "headers": {"Idempotency-Key": "nul-form"}}
                sent["headers"]["Content-Type"] = "application/x-www-form-urlencoded"
            else:
                sent = {"json": {"order": "IL\x001"}, "headers": {"Idempotency-Key": "nul-json"}}
            answer = await client.post(url, **sent)  # type: ignore[arg-type]
            assert answer.status_code == 202, answer.text
            run = (await gql_data(client, RUN_STATE, id=answer.json()["runId"]))["workflowRun"]
            assert run["context"] == {"body": {"order": "IL\ufffd1"}}
        manual = await gql_data(client, RUN, id=workflow["id"], c={"note\x00": "a\x00b"})
        run = (await gql_data(client, RUN_STATE, id=manual["runWorkflow"]["id"]))["workflowRun"]
        assert run["context"]["note\ufffd"] == "a\ufffdb"


async def test_manual_runs_and_their_queries(wf_settings: Settings) -> None:
    async with serving(wf_settings, *RUNS_IN_FULL) as client:
        workflow = (await gql_data(client, CREATE, d=ONE_STEP))["createWorkflow"]
        started = await gql_data(client, RUN, id=workflow["id"], c={"body": {"order": "IL1"}})
        run = started["runWorkflow"]
        assert (run["status"], run["triggerType"]) == ("QUEUED", "manual")
        assert run["steps"] == [{"stepId": "say", "status": "PENDING"}]
        if wf_settings.embedded:  # the worker runs inside the app; production needs `visapi worker`
            done = await wait_for(client, run["id"], "SUCCEEDED")
            (step,) = done["steps"]
            assert (step["status"], step["attempts"], step["type"]) == (
                "SUCCEEDED",
                1,
                "slack.send",
            )
            assert step["output"]["channel"] == "#ops"
        else:
            assert (await gql_data(client, CANCEL, id=run["id"]))["cancelWorkflowRun"] == {
                "status": "CANCELED"
            }
        runs = (await gql_data(client, RUNS, f={"workflowId": workflow["id"]}))["workflowRuns"]
        assert runs["totalCount"] == 1
        other = (await gql_data(client, RUNS, f={"status": "FAILED"}))["workflowRuns"]
        assert other == {"totalCount": 0, "edges": []}
        bad = await client.post(
            "/graphql", json={"query": RUN, "variables": {"id": workflow["id"], "c": [1]}}
        )
        assert codes(bad) == ["INVALID_INPUT"]


async def test_the_webhook_trigger(wf_settings: Settings) -> None:
    async with serving(wf_settings, *RUNS_IN_FULL) as client:
        await gql_data(client, CREATE, d=ONE_STEP)
        url = "/api/v1/triggers/visa-ready"
        missing = await client.post(url, json={"order": "IL1"})
        assert (missing.status_code, codes(missing)) == (400, ["INVALID_INPUT"])
        headers = {"Idempotency-Key": "call-1"}
        first = await client.post(url, json={"order": "IL1"}, headers=headers)
        assert first.status_code == 202, first.text
        run_id = first.json()["runId"]
        again = await client.post(url, json={"order": "IL1"}, headers=headers)
        assert (again.status_code, again.json()["runId"]) == (202, run_id)
        reused = await client.post(url, json={"order": "IL2"}, headers=headers)
        assert reused.status_code == 422
        too_big = await client.post(
            url, json={"x": "a" * 3000}, headers={"Idempotency-Key": "call-2"}
        )
        assert (too_big.status_code, codes(too_big)) == (413, ["PAYLOAD_TOO_LARGE"])
        form = await client.post(
            url,
            content=b"order=IL3",
            headers={
                "Idempotency-Key": "call-3",
                "Content-Type": "application/x-www-form-urlencoded",
            },
        )
        assert form.status_code == 202
        unknown = await client.post(
            "/api/v1/triggers/nobody", json={}, headers={"Idempotency-Key": "k"}
        )
        assert unknown.status_code == 404
        xml = await client.post(
            url, content=b"<a/>", headers={"Idempotency-Key": "k4", "Content-Type": "text/xml"}
        )
        assert xml.status_code == 415
        run = (await gql_data(client, RUN_STATE, id=run_id))["workflowRun"]
        assert (run["triggerType"], run["triggerKey"], run["context"]) == (
            "webhook",
            "visa-ready",
            {"body": {"order": "IL1"}},
        )
        runs = (await gql_data(client, RUNS))["workflowRuns"]
        assert runs["totalCount"] == 2


# Destinations from the definition's variables: a caller of `workflows:run` once replaced them
# through the run context and sent both steps to an attacker (issue 11, finding 6).
ADDRESSED = {
    "name": "addressed",
    "variables": {"team": "#ops", "desk": "desk@agency.test"},
    "triggers": [{"type": "webhook", "config": {"key": "addressed"}}, {"type": "manual"}],
    "steps": [
        {
            "id": "tell",
            "type": "slack.send",
            "config": {"channel": "{{variables.team}}", "message": "for {{body.order}}"},
        },
        {
            "id": "mail",
            "type": "email.send",
            "config": {"recipient": "{{variables.desk}}", "subject": "s", "body": "b"},
        },
    ],
}
ATTACKER = {"team": "#attacker", "desk": "evil@attacker.test"}


def destinations(run: Any) -> list[str]:
    out = {s["stepId"]: s["output"] for s in run["steps"]}
    return [out["tell"]["channel"], out["mail"]["recipient"]]


async def test_run_context_cannot_replace_the_definitions_variables(wf_settings: Settings) -> None:
    async with serving(wf_settings, *RUNS_IN_FULL) as client:
        workflow = (await gql_data(client, CREATE, d=ADDRESSED))["createWorkflow"]
        for key in ("variables", "order", "steps"):
            c = {key: ATTACKER, "body": {"order": "IL1"}}
            refused = await client.post(
                "/graphql", json={"query": RUN, "variables": {"id": workflow["id"], "c": c}}
            )
            assert codes(refused) == ["INVALID_INPUT"], refused.text
            (error,) = refused.json()["errors"]
            assert f"context key '{key}' is reserved" in error["message"]
        assert (await gql_data(client, RUNS))["workflowRuns"]["totalCount"] == 0

        # The webhook body stays under `body`, whatever keys it has.
        hooked = await client.post(
            "/api/v1/triggers/addressed",
            json={"variables": ATTACKER, "order": "IL2", "steps": {"tell": ATTACKER}},
            headers={"Idempotency-Key": "addressed-1"},
        )
        assert hooked.status_code == 202, hooked.text
        manual = await gql_data(client, RUN, id=workflow["id"], c={"body": {"order": "IL3"}})
        if not wf_settings.embedded:
            return  # production needs `visapi worker` to execute the runs
        for run_id in (hooked.json()["runId"], manual["runWorkflow"]["id"]):
            done = await wait_for(client, run_id, "SUCCEEDED")
            assert destinations(done) == ["#ops", "desk@agency.test"]
