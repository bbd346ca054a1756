"""Subscription clients for tests: a real WebSocket client speaking graphql-transport-ws and a
real SSE client (httpx streaming), against running `visapi serve` processes."""

from __future__ import annotations

import asyncio
import json
import subprocess
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from pathlib import Path
from typing import Any

import httpx
import websockets
from websockets.asyncio.client import ClientConnection

from tests.processes import CLI, ROOT, wait_until_up
from tests.services import free_port
from tests.waiting import eventually

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "vizi-orders"
CREATE = """mutation($payload: JSON!) { createOrder(payload: $payload) { __typename
  ... on OrderAccepted { order { id orderId } } ... on InvalidOrder { message } } }"""
PROTOCOL = "graphql-transport-ws"


def order_body(email: str | None = None, name: str = "il-test-order.json") -> dict[str, Any]:
    """A storefront order (an Israeli one: CRM sync and confirmation) with a fresh id."""
    body: dict[str, Any] = json.loads((FIXTURES / name).read_text())
    body["order"]["id"] = f"IL{uuid.uuid4().hex[:12].upper()}"
    if email is not None:
        body["form"]["client"]["email"] = email
    return body


async def create_order(base: str, key: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
    async with httpx.AsyncClient(base_url=base, timeout=10) as client:
        answer = await client.post(
            "/graphql",
            json={"query": CREATE, "variables": {"payload": body or order_body()}},
            headers={"X-API-Key": key},
        )
    created = answer.json()["data"]["createOrder"]
    assert created["__typename"] == "OrderAccepted", created
    order: dict[str, Any] = created["order"]
    return order


async def gql(base: str, key: str, query: str, **variables: Any) -> dict[str, Any]:
    async with httpx.AsyncClient(base_url=base, timeout=10) as client:
        answer = await client.post(
            "/graphql",
            json={"query": query, "variables": variables},
            headers={"X-API-Key": key},
        )
    body: dict[str, Any] = answer.json()
    return body


def ws_url(base: str) -> str:
    return base.replace("http://", "ws://", 1) + "/graphql"


@asynccontextmanager
async def socket(
    base: str, payload: dict[str, Any] | None, *, ack: bool = True, **options: Any
) -> AsyncIterator[ClientConnection]:
    """An open graphql-transport-ws connection, `connection_init` sent with `payload` (and
    its `connection_ack` read when `ack`)."""
    async with websockets.connect(ws_url(base), subprotocols=[PROTOCOL], **options) as ws:  # type: ignore[list-item]
        await ws.send(json.dumps({"type": "connection_init", "payload": payload or {}}))
        if ack:
            assert json.loads(await asyncio.wait_for(ws.recv(), 10))["type"] == "connection_ack"
        yield ws


async def subscribe(
    ws: ClientConnection, id: str, query: str, variables: dict[str, Any] | None = None, **extra: Any
) -> None:
    payload = {"query": query, "variables": variables or {}, **extra}
    await ws.send(json.dumps({"id": id, "type": "subscribe", "payload": payload}))


async def message(ws: ClientConnection, timeout_s: float = 15.0) -> dict[str, Any]:
    """The next protocol message other than a ping (answered with a pong)."""
    while True:
        raw = await asyncio.wait_for(ws.recv(), timeout_s)
        found: dict[str, Any] = json.loads(raw)
        if found.get("type") == "ping":
            await ws.send(json.dumps({"type": "pong"}))
            continue
        return found


async def closed_with(ws: ClientConnection, timeout_s: float = 15.0) -> tuple[int | None, str]:
    """The close code and reason the server sent, reading (and dropping) what comes before."""
    try:
        while True:
            await asyncio.wait_for(ws.recv(), timeout_s)
    except websockets.ConnectionClosed as closed:
        frame = closed.rcvd
        return (frame.code, frame.reason) if frame is not None else (None, "")


async def sse_events(
    base: str, key: str | None, query: str, variables: dict[str, Any] | None = None
) -> AsyncIterator[tuple[str, Any]]:
    """(event, data) of a GraphQL-over-SSE subscription, as they arrive."""
    headers = {"Accept": "text/event-stream", **({"X-API-Key": key} if key else {})}
    body = {"query": query, "variables": variables or {}}
    async with (
        httpx.AsyncClient(base_url=base, timeout=httpx.Timeout(10, read=30)) as client,
        client.stream("POST", "/graphql", json=body, headers=headers) as answer,
    ):
        assert answer.headers["content-type"].startswith("text/event-stream"), answer.headers
        event, data = "", ""
        async for line in answer.aiter_lines():
            if line.startswith("event:"):
                event = line[6:].strip()
            elif line.startswith("data:"):
                data = line[5:].strip()
            elif line == "" and event:
                yield event, json.loads(data) if data else None
                event, data = "", ""


@contextmanager
def serve_workers(env: dict[str, str], folder: Path, workers: int) -> Iterator[str]:
    """`visapi serve --workers N` on a free port."""
    port, log = free_port(), folder / f"serve-w{workers}.log"
    command = [*CLI, "serve", "--port", str(port), "--workers", str(workers)]
    with log.open("w") as out:
        process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=out, stderr=out)
    base = f"http://127.0.0.1:{port}"
    try:
        wait_until_up(process, base, log)
        yield base
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def new_key(env: dict[str, str], scopes: str, name: str = "live") -> str:
    made = subprocess.run(
        [*CLI, "keys", "create", "--name", name, "--scopes", scopes],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    return made.stdout.strip()


ISSUE = """mutation($name: String!, $scopes: [String!]!) {
  createApiKey(name: $name, scopes: $scopes) { secret apiKey { id } } }"""
REVOKE = "mutation($id: ID!) { revokeApiKey(id: $id) { revokedAt } }"


async def issued(base: str, admin: str, *scopes: str, name: str = "live") -> tuple[str, str]:
    """(secret, id) of a new key with these scopes, made by `admin` over HTTP."""
    body = await gql(base, admin, ISSUE, name=name, scopes=list(scopes))
    made = body["data"]["createApiKey"]
    return made["secret"], made["apiKey"]["id"]


async def listening(base: str, field: str, count: int = 1) -> None:
    """Wait until /metrics counts `count` active `field` subscriptions (across processes):
    a subscription listens from then on, so what commits after is delivered to it."""
    wanted = f'visapi_live_subscriptions{{field="{field}"}} {float(count)}'

    async def active() -> bool:
        async with httpx.AsyncClient(base_url=base, timeout=5) as client:
            return wanted in (await client.get("/metrics")).text

    await eventually(active, timeout_s=15, why=f"{count} {field} subscriptions never started")
