"""Subscriptions against a real `visapi serve` on the embedded default: graphql-transport-ws and
GraphQL over SSE clients, the order pipeline's events in commit order, filters, permissions per
field, revocation, /metrics, workflow runs and bulk operations (the server's own rules: caps,
trusted documents, shutdown, keepalive are in test_subscriptions_server.py)."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.live import (
    REVOKE,
    closed_with,
    create_order,
    gql,
    issued,
    listening,
    message,
    new_key,
    order_body,
    socket,
    sse_events,
    subscribe,
)
from tests.processes import base_env, servers

ORDER_EVENTS = """subscription($f: OrderFilter) {
  orderEvents(filter: $f) { type occurredAt order { orderId clientName } } }"""
PIPELINE = ["CREATED", "CONTACT_SYNCED", "CONFIRMATION_QUEUED", "CONFIRMATION_SENT"]


@pytest.fixture
def env(sqlite_url: str) -> dict[str, str]:
    return base_env(VISAPI_DATABASE_URL=sqlite_url, VISAPI_SUBSCRIPTION_RECHECK_S="0.5")


@pytest.fixture
def server(env: dict[str, str], tmp_path: Path) -> Iterator[tuple[str, str]]:
    admin = new_key(env, "admin")
    with servers(env, tmp_path, 1) as (base,):
        yield base, admin


async def events_of(ws, id: str, count: int) -> list[dict]:
    got = []
    while len(got) < count:
        found = await message(ws)
        assert found["type"] == "next", found
        assert found["id"] == id, found
        got.append(found["payload"]["data"]["orderEvents"])
    return got


async def test_an_order_s_pipeline_reaches_a_websocket_subscriber_in_commit_order(
    server: tuple[str, str],
) -> None:
    base, admin = server
    async with socket(base, {"X-API-Key": admin}) as ws:
        await subscribe(ws, "a", ORDER_EVENTS)
        await listening(base, "orderEvents")
        order = await create_order(base, admin)
        seen = await events_of(ws, "a", len(PIPELINE))
    assert [e["type"] for e in seen] == PIPELINE
    assert {e["order"]["orderId"] for e in seen} == {order["orderId"]}
    assert seen[0]["order"]["clientName"] == "Avi Cohen"  # personal data, held permission
    stamps = [e["occurredAt"] for e in seen]
    assert stamps == sorted(stamps)


async def test_a_filter_passes_only_matching_orders(server: tuple[str, str]) -> None:
    base, admin = server
    async with socket(base, {"Authorization": f"Bearer {admin}"}) as ws:
        await subscribe(ws, "one", ORDER_EVENTS, {"f": {"clientEmail": "wanted@example.com"}})
        await listening(base, "orderEvents")
        await create_order(base, admin, order_body("other@example.com"))
        wanted = await create_order(base, admin, order_body("wanted@example.com"))
        [first] = await events_of(ws, "one", 1)
    assert first["type"] == "CREATED"  # the first event of the order, and only of it
    assert first["order"]["orderId"] == wanted["orderId"]


async def test_credentials_are_checked_at_connection_init(server: tuple[str, str]) -> None:
    base, admin = server
    for payload in ({}, {"X-API-Key": "vk_nope.wrong"}, {"Authorization": 12}):
        async with socket(base, payload, ack=False) as ws:
            code, _ = await closed_with(ws)
            assert code == 4403, payload
    async with socket(base, {"headers": {"x-api-key": admin}}) as ws:  # nested, any case
        await subscribe(ws, "q", "subscription { queueStats { queue ready } }")
        first = await message(ws)
    assert first["type"] == "next"
    assert {q["queue"] for q in first["payload"]["data"]["queueStats"]} == {
        "critical",
        "default",
        "bulk",
    }


async def test_each_field_checks_its_own_permission(server: tuple[str, str]) -> None:
    base, admin = server
    reader, _ = await issued(base, admin, "logs:read")
    async with socket(base, {"X-API-Key": reader}) as ws:
        await subscribe(ws, "o", ORDER_EVENTS)
        refused = await message(ws)
        await subscribe(ws, "l", "subscription { logs { level message correlationId } }")
        await listening(base, "logs")
        await create_order(base, admin)
        line = await message(ws)
    assert refused["type"] == "error" or refused["payload"].get("errors"), refused
    errors = refused["payload"] if refused["type"] == "error" else refused["payload"]["errors"]
    assert errors[0]["extensions"]["code"] == "FORBIDDEN"
    assert errors[0]["extensions"]["permission"] == "orders:read"
    assert line["id"] == "l"
    assert "received" in line["payload"]["data"]["logs"]["message"]


async def test_sse_streams_a_subscription_and_refuses_without_credentials(
    server: tuple[str, str],
) -> None:
    base, admin = server
    got: list[tuple[str, object]] = []

    async def listen() -> None:
        async for event in sse_events(base, admin, "subscription { logs { message } }"):
            got.append(event)
            return

    task = asyncio.create_task(listen())
    await listening(base, "logs")
    await create_order(base, admin)
    await asyncio.wait_for(task, 15)
    assert got[0][0] == "next"
    assert "received" in got[0][1]["data"]["logs"]["message"]  # type: ignore[index]
    async with httpx.AsyncClient(base_url=base) as client:
        anonymous = await client.post(
            "/graphql",
            json={"query": "subscription { logs { message } }"},
            headers={"Accept": "text/event-stream"},
        )
    assert anonymous.status_code == 401
    assert anonymous.headers["www-authenticate"] == 'Bearer realm="visapi"'
    assert anonymous.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


async def test_a_subscription_over_plain_http_is_refused(server: tuple[str, str]) -> None:
    base, admin = server
    async with httpx.AsyncClient(base_url=base) as client:
        answer = await client.post(
            "/graphql",
            json={"query": "subscription { logs { message } }"},
            headers={"X-API-Key": admin},
        )
    assert answer.status_code == 400
    assert "text/event-stream" in answer.json()["errors"][0]["message"]


async def test_a_revoked_key_s_socket_and_stream_close(server: tuple[str, str]) -> None:
    base, admin = server
    secret, id = await issued(base, admin, "logs:read")
    got: list[tuple[str, object]] = []

    async def listen() -> None:
        async for event in sse_events(base, secret, "subscription { logs { message } }"):
            got.append(event)

    async with socket(base, {"X-API-Key": secret}) as ws:
        await subscribe(ws, "l", "subscription { logs { message } }")
        stream = asyncio.create_task(listen())
        await listening(base, "logs", 2)
        assert (await gql(base, admin, REVOKE, id=id))["data"]["revokeApiKey"]["revokedAt"]
        code, reason = await closed_with(ws, timeout_s=5)
        await asyncio.wait_for(stream, 5)
    assert code == 4403
    assert "revoked" in reason
    assert got[-2][1]["errors"][0]["extensions"]["code"] == "FORBIDDEN"  # type: ignore[index]
    assert got[-1][0] == "complete"


async def test_metrics_count_connections_subscriptions_and_events(
    server: tuple[str, str],
) -> None:
    base, admin = server
    async with socket(base, {"X-API-Key": admin}) as ws:
        await subscribe(ws, "o", ORDER_EVENTS)
        await listening(base, "orderEvents")
        await create_order(base, admin)
        await message(ws)
        async with httpx.AsyncClient(base_url=base) as client:
            text = (await client.get("/metrics")).text
    assert 'visapi_live_connections{transport="ws"} 1.0' in text
    assert 'visapi_live_subscriptions{field="orderEvents"} 1.0' in text
    assert 'visapi_live_events_fanned_out_total{topic="orders"}' in text


WORKFLOW = {
    "name": "Live run",
    "enabled": True,
    "triggers": [{"type": "manual"}],
    "steps": [
        {"id": "first", "type": "delay", "config": {"seconds": 1}},
        {"id": "second", "type": "delay", "config": {"seconds": 1}},
    ],
}
CREATE_WORKFLOW = """mutation($d: JSON!) { createWorkflow(definition: $d) {
  ... on Workflow { id } ... on InvalidWorkflow { message } } }"""
RUN = "mutation($id: ID!) { runWorkflow(id: $id) { id status } }"
RUN_EVENTS = "subscription($id: ID!) { workflowRun(id: $id) { status steps { status } } }"


async def test_a_workflow_run_is_pushed_step_by_step_and_the_stream_ends_with_it(
    server: tuple[str, str],
) -> None:
    base, admin = server
    made = await gql(base, admin, CREATE_WORKFLOW, d=WORKFLOW)
    run = (await gql(base, admin, RUN, id=made["data"]["createWorkflow"]["id"]))["data"]
    states = []
    async with socket(base, {"X-API-Key": admin}) as ws:
        await subscribe(ws, "r", RUN_EVENTS, {"id": run["runWorkflow"]["id"]})
        while (found := await message(ws))["type"] == "next":
            states.append(found["payload"]["data"]["workflowRun"])
        assert found == {"id": "r", "type": "complete"}
        await subscribe(ws, "gone", RUN_EVENTS, {"id": "00000000-0000-0000-0000-000000000000"})
        missing = await message(ws)
    assert states[-1]["status"] == "SUCCEEDED"
    assert [s["status"] for s in states[-1]["steps"]] == ["SUCCEEDED", "SUCCEEDED"]
    assert len(states) >= 2  # seen while it ran, then at its end
    assert len({str(s) for s in states}) == len(states)  # each push is a change
    errors = missing["payload"] if missing["type"] == "error" else missing["payload"]["errors"]
    assert errors[0]["extensions"]["code"] == "NOT_FOUND"


BULK = """mutation($f: OrderFilter!) { markOrdersProcessedWhere(filter: $f) { id } }"""
BULK_EVENTS = "subscription($id: ID!) { bulkOperation(id: $id) { status total done } }"
BULK_LIST = "{ bulkOperations(first: 5) { edges { node { id kind status } } } }"


async def test_a_bulk_operation_s_progress_is_pushed_until_it_ends(
    server: tuple[str, str],
) -> None:
    base, admin = server
    for _ in range(3):
        await create_order(base, admin, order_body("bulk-live@example.com"))
    started = await gql(base, admin, BULK, f={"clientEmail": "bulk-live@example.com"})
    id = started["data"]["markOrdersProcessedWhere"]["id"]
    states = []
    async with socket(base, {"X-API-Key": admin}) as ws:
        await subscribe(ws, "b", BULK_EVENTS, {"id": id})
        while (found := await message(ws))["type"] == "next":
            states.append(found["payload"]["data"]["bulkOperation"])
    listed = (await gql(base, admin, BULK_LIST))["data"]["bulkOperations"]["edges"]
    assert found == {"id": "b", "type": "complete"}
    assert states[-1] == {"status": "FINISHED", "total": 3, "done": 3}
    assert listed[0]["node"] == {"id": id, "kind": "MARK_PROCESSED", "status": "FINISHED"}
