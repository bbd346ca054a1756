"""The orders slice over HTTP, lifespan running: embedded (SQLite, memory cache, in-process
worker) and production (PostgreSQL, Redis cache and broker), writes visible on the next read
through every cache; and a Redis server stopped mid-test."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
import redis.asyncio as aioredis

from tests.auth import key, with_auth
from tests.e2e.gql_support import gql_data
from visapi.asgi import create_app
from visapi.settings import Settings

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "vizi-orders"

CREATE = """mutation($payload: JSON!) { createOrder(payload: $payload) { __typename
  ... on OrderAccepted { created order { id orderId branch currency clientPhone phoneValid
                          processingDays isUrgent amount processedAt } }
  ... on OrderSkipped { reason }
  ... on InvalidOrder { message field } } }"""
ORDER = "query($id: ID) { order(id: $id) { orderId processedAt events { type } } }"
UNPROCESSED = "{ orders(filter: {unprocessed: true}) { totalCount edges { node { orderId } } } }"
STATS = "{ orderStats(groupBy: BRANCH) { key count totalAmount } }"
PROCESS = "mutation($ids: [ID!]!) { markOrdersProcessed(ids: $ids) }"


def body(name: str) -> Any:
    return json.loads((FIXTURES / name).read_text())


@asynccontextmanager
async def serving(settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    """The app, lifespan running, behind a client sending an operator's API key."""
    app = create_app(with_auth(settings))
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url="http://test") as client,
    ):
        scopes = ("orders:read", "orders:write")
        client.headers["X-API-Key"] = await key(app.state.container, *scopes)
        yield client


async def drop_namespace(redis_url: str, namespace: str) -> None:
    client = aioredis.from_url(redis_url)
    try:
        keys = [k async for k in client.scan_iter(f"{namespace}:*")]
        if keys:
            await client.delete(*keys)
    finally:
        await client.aclose()


@pytest.fixture(params=["embedded", "production"])
def settings(request: pytest.FixtureRequest) -> Settings:
    # Sync on purpose: async fixtures (the databases) can only be requested from a sync one.
    if request.param == "embedded":
        return Settings(database_url=request.getfixturevalue("sqlite_url"))
    return Settings(
        database_url=request.getfixturevalue("postgres_url"),
        redis_url=request.getfixturevalue("redis_url"),
        redis_namespace=f"visapi-e2e-{uuid.uuid4().hex[:10]}",
        db_pool_size=4,
    )


@pytest.fixture
async def client(settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    try:
        async with serving(settings) as client:
            yield client
    finally:
        if settings.redis_url:
            await drop_namespace(settings.redis_url, settings.redis_namespace)


async def test_create_query_and_process_orders(client: httpx.AsyncClient) -> None:
    # Prime every cache the writes must evict: lists, stats.
    assert (await gql_data(client, UNPROCESSED))["orders"]["totalCount"] == 0
    assert (await gql_data(client, STATS))["orderStats"] == []

    created = (await gql_data(client, CREATE, payload=body("il-uk-eta.json")))["createOrder"]
    assert created["__typename"] == "OrderAccepted"
    assert created["created"] is True
    order = created["order"]
    assert {k: order[k] for k in ("orderId", "branch", "currency", "clientPhone")} == {
        "orderId": "IL251101GB07",
        "branch": "il",
        "currency": "ILS",
        "clientPhone": "972541112233",
    }
    assert (order["processingDays"], order["isUrgent"], order["amount"]) == (3, False, "165.00")

    # Written, then visible on the next read through the caches.
    fetched = (await gql_data(client, ORDER, id=order["id"]))["order"]
    # The embedded worker may already have synced the contact and queued the confirmation.
    assert fetched["events"][0] == {"type": "order.created"}
    assert {e["type"] for e in fetched["events"][1:]} <= {"notification.queued"}
    assert (fetched["orderId"], fetched["processedAt"]) == ("IL251101GB07", None)
    unprocessed = (await gql_data(client, UNPROCESSED))["orders"]
    assert [e["node"]["orderId"] for e in unprocessed["edges"]] == ["IL251101GB07"]
    assert unprocessed["totalCount"] == 1  # the count was cached at 0 before the write
    assert (await gql_data(client, STATS))["orderStats"] == [
        {"key": "il", "count": 1, "totalAmount": "165.00"}
    ]

    # The by-id entry is cached now; processing it must still show on the next read.
    assert (await gql_data(client, PROCESS, ids=[order["id"]]))["markOrdersProcessed"] == 1
    assert (await gql_data(client, PROCESS, ids=[order["id"]]))["markOrdersProcessed"] == 0
    assert (await gql_data(client, ORDER, id=order["id"]))["order"]["processedAt"] is not None
    assert (await gql_data(client, UNPROCESSED))["orders"]["totalCount"] == 0


async def test_duplicates_test_orders_and_bad_bodies(client: httpx.AsyncClient) -> None:
    first = (await gql_data(client, CREATE, payload=body("il-uk-eta.json")))["createOrder"]
    again = (await gql_data(client, CREATE, payload=body("il-uk-eta.json")))["createOrder"]
    assert (again["created"], again["order"]["id"]) == (False, first["order"]["id"])

    skipped = (await gql_data(client, CREATE, payload=body("il-test-order.json")))["createOrder"]
    assert skipped["__typename"] == "OrderSkipped"

    se = await gql_data(client, CREATE, payload=body("se-india-uppercase-branch-extra-keys.json"))
    order = se["createOrder"]["order"]
    assert (order["branch"], order["currency"], order["isUrgent"], order["processingDays"]) == (
        "se",
        "SEK",
        True,
        1,
    )

    bad = body("il-uk-eta.json")
    bad["order"]["amount"] = "a lot"
    invalid = (await gql_data(client, CREATE, payload=bad))["createOrder"]
    assert invalid["__typename"] == "InvalidOrder"
    assert invalid["field"] == "order.amount"

    stats = (await gql_data(client, STATS))["orderStats"]
    assert sorted((s["key"], s["count"]) for s in stats) == [("il", 1), ("se", 1)]


@pytest.mark.parametrize(
    ("given", "field"),
    [
        ({"amountGte": "1e400"}, "filter.amountGte"),
        ({"amountGte": "12345678901234567890"}, "filter.amountGte"),
        ({"amountGte": "-1e12"}, "filter.amountGte"),
        ({"branch": "\x00"}, "filter.branch"),
        ({"clientEmail": "avi\x00@example.com"}, "filter.clientEmail"),
    ],
)
async def test_unstorable_filter_values_are_invalid_input(
    client: httpx.AsyncClient, given: dict[str, str], field: str
) -> None:
    """Found by the fuzz suite: each answered INTERNAL (amountGte "1e400" failed quantizing to
    cents, a NUL failed in PostgreSQL)."""
    query = "query($f: OrderFilter) { orders(filter: $f) { totalCount } }"
    stats = "query($f: OrderFilter) { orderStats(filter: $f, groupBy: STATUS) { count } }"
    for document in (query, stats):
        body = {"query": document, "variables": {"f": given}}
        response = await client.post("/graphql", json=body)
        errors = response.json()["errors"]
        assert [(e["extensions"]["code"], e["extensions"].get("field")) for e in errors] == [
            ("INVALID_INPUT", field)
        ], errors


async def test_redis_stopped_mid_test_reads_fall_through(
    postgres_url: str, private_redis: Any
) -> None:
    process, redis_url = private_redis
    settings = Settings(database_url=postgres_url, redis_url=redis_url, db_pool_size=4)
    async with serving(settings) as client:
        order = (await gql_data(client, CREATE, payload=body("il-uk-eta.json")))["createOrder"][
            "order"
        ]
        for _ in range(2):  # miss, then hit
            assert (await gql_data(client, ORDER, id=order["id"]))["order"][
                "orderId"
            ] == "IL251101GB07"

        process.kill()
        await asyncio.to_thread(process.wait, 10)

        # Reads go to the database; writes commit (their jobs wait in the outbox).
        assert (await gql_data(client, ORDER, id=order["id"]))["order"]["orderId"] == "IL251101GB07"
        assert (await gql_data(client, STATS))["orderStats"][0]["count"] == 1
        se = await gql_data(
            client, CREATE, payload=body("se-india-uppercase-branch-extra-keys.json")
        )
        assert se["createOrder"]["created"] is True
        assert (await gql_data(client, STATS))["orderStats"][1]["count"] == 1
        ready = await client.get("/api/v1/readyz")
        assert ready.status_code == 503
        assert {"cache", "broker"} <= set(ready.json()["failing"])
