"""One storefront request's correlation id, followed through every hop in the business logs:
intake, the contact sync job, the confirmation it queues and the send job after it (the second
hop), and the workflow run the order started (its start, its step, its end, with the workflow
id); the same for a dead letter and its replay (by job id)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from tests.auth import key, running, with_auth
from tests.e2e.gql_support import gql_data
from tests.waiting import eventually
from visapi.settings import Settings

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "vizi-orders"
WEBHOOK = "/api/v1/webhooks/vizi/orders"
CORRELATION = "storefront-trace-0042"
LOGS = """query($c: String!) { logs(filter: {correlationId: $c}, first: 100) {
  edges { node { message level jobId workflowId correlationId } } } }"""
WORKFLOW = {
    "name": "UK orders",
    "enabled": True,
    "triggers": [{"type": "webhook", "config": {"key": "vizi_uk"}}],
    "steps": [{"id": "pause", "type": "delay", "config": {"seconds": 0}}],
}
CREATE_WORKFLOW = """mutation($d: JSON!) { createWorkflow(definition: $d) {
  ... on Workflow { id } ... on InvalidWorkflow { message } } }"""

WANTED = [
    "order IL251103GB42 received",  # intake
    "contact of order IL251103GB42 synced",  # the sync job (first hop)
    "confirmation of order IL251103GB42 queued",
    "sent",  # the send job (second hop)
    "started (webhook)",  # the workflow run
    "step 'pause' succeeded",
    "succeeded",
]


async def test_a_request_s_correlation_id_reaches_every_hop(sqlite_url: str) -> None:
    async with running(with_auth(Settings(database_url=sqlite_url))) as (container, http):
        admin = await key(container, "admin")
        made = await gql_data(http, CREATE_WORKFLOW, admin, d=WORKFLOW)
        workflow_id = made["createWorkflow"]["id"]
        body = json.loads((FIXTURES / "il-test-order.json").read_text())
        body["order"]["id"] = "IL251103GB42"  # a real order (a -TEST one is skipped)
        answer = await http.post(
            WEBHOOK,
            json=body,
            headers={"X-API-Key": admin, "X-Correlation-Id": CORRELATION},
        )
        assert answer.status_code in (200, 201), answer.text

        async def lines() -> list[dict[str, Any]] | None:
            edges = (await gql_data(http, LOGS, admin, c=CORRELATION))["logs"]["edges"]
            found = [e["node"] for e in edges]
            text = "\n".join(n["message"] for n in found)
            return found if all(w in text for w in WANTED) else None

        found = await eventually(lines, timeout_s=30, why="not every hop logged its line")
    assert {n["correlationId"] for n in found} == {CORRELATION}
    run_lines = [n for n in found if "workflow run" in n["message"]]
    assert run_lines
    assert {n["workflowId"] for n in run_lines} == {workflow_id}
    job_lines = [n for n in found if "synced" in n["message"] or " sent" in n["message"]]
    assert all(n["jobId"] for n in job_lines)  # written inside the job that did it
