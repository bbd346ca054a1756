"""The whole-response cache over HTTP, on the embedded default (SQLite, memory) and production
(PostgreSQL, Redis): hits counted in /metrics and cacheStats, writes visible on the next read
(also across two app processes), answers kept apart by permission set, undeclared fields and
errors never stored, Cache-Control, ETag and 304, and Redis stopped mid-test."""

from __future__ import annotations

import asyncio
import hashlib
import json
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import replace
from typing import Any

import httpx
from starlette.routing import Route

from tests.auth import drop_namespace, key, running, with_auth
from tests.e2e.gql_support import gql
from tests.scrape import create_order, order_body, scrape
from visapi.asgi import create_app
from visapi.settings import Settings

ORDER = "query Order($id: ID!) { order(id: $id) { id orderId clientName processedAt } }"
PAGE = "{ orders(filter: {unprocessed: true}) { totalCount edges { node { orderId } } } }"
PROCESS = "mutation($ids: [ID!]!) { markOrdersProcessed(ids: $ids) }"
LOOKUPS = "visapi_response_cache_lookups_total"
ORDER_HASH = hashlib.sha256(ORDER.encode()).hexdigest()


def counts(samples: Any, document: str = "other") -> tuple[float, float]:
    return (
        samples.get_value(LOOKUPS, document=document, result="hit"),
        samples.get_value(LOOKUPS, document=document, result="miss"),
    )


async def data(client: httpx.AsyncClient, query: str, api_key: str, **variables: Any) -> Any:
    response = await gql(client, query, api_key, **variables)
    assert response.status_code == 200, response.text
    assert "errors" not in response.json(), response.text
    return response.json()["data"]


async def test_a_second_identical_read_is_a_hit(app_settings: Settings) -> None:
    async with running(app_settings) as (container, client):
        reader = await key(container, "orders:read", "orders:write")
        order_id = await create_order(client, {"X-API-Key": reader}, order_body())
        first = await data(client, ORDER, reader, id=order_id)
        assert counts(await scrape(client)) == (0, 1)
        assert await data(client, ORDER, reader, id=order_id) == first
        assert counts(await scrape(client)) == (1, 1)
        # Apollo's registering request (the text with its hash) is never answered from the
        # cache: it runs, so the document is stored; then the hash alone is a hit, counted
        # under the document's own hash.
        by_hash = {
            "variables": {"id": order_id},
            "extensions": {"persistedQuery": {"version": 1, "sha256Hash": ORDER_HASH}},
        }
        registering = {**by_hash, "query": ORDER}
        answer = await client.post("/graphql", json=registering, headers={"X-API-Key": reader})
        assert answer.json()["data"] == first
        assert counts(await scrape(client)) == (1, 1)  # not looked up
        answer = await client.post("/graphql", json=by_hash, headers={"X-API-Key": reader})
        assert answer.json()["data"] == first
        assert counts(await scrape(client), ORDER_HASH) == (1, 0)  # the same entry
        admin = await key(container, "admin")
        stats = await data(client, "{ cacheStats { prefix hits misses } }", admin)
        rows = {r["prefix"]: (r["hits"], r["misses"]) for r in stats["cacheStats"]}
        assert rows["response:other"] == (1, 1)
        assert rows[f"response:{ORDER_HASH}"] == (1, 0)


async def test_a_write_is_visible_on_the_next_read(app_settings: Settings) -> None:
    async with running(app_settings) as (container, client):
        operator = await key(container, "orders:read", "orders:write")
        order_id = await create_order(client, {"X-API-Key": operator}, order_body())
        for _ in range(2):  # stored, then a hit
            assert (await data(client, ORDER, operator, id=order_id))["order"][
                "processedAt"
            ] is None
            page = (await data(client, PAGE, operator))["orders"]
        assert page["totalCount"] == 1
        assert counts(await scrape(client)) == (2, 2)

        assert (await data(client, PROCESS, operator, ids=[order_id]))["markOrdersProcessed"] == 1
        processed = (await data(client, ORDER, operator, id=order_id))["order"]["processedAt"]
        assert processed is not None
        assert (await data(client, PAGE, operator))["orders"]["totalCount"] == 0
        assert counts(await scrape(client)) == (2, 4)  # both misses: evicted by the write

        other = await create_order(client, {"X-API-Key": operator}, order_body())
        assert (await data(client, PAGE, operator))["orders"]["totalCount"] == 1  # createOrder
        assert (await data(client, ORDER, operator, id=other))["order"]["id"] == other


async def test_answers_are_kept_apart_by_permission_set(app_settings: Settings) -> None:
    async with running(app_settings) as (container, client):
        reader = await key(container, "orders:read", name="reader")
        twin = await key(container, "orders:read", name="twin")  # same permissions
        broader = await key(container, "orders:read", "logs:read")
        workflows = await key(container, "workflows:read")
        writer = await key(container, "orders:write")
        order_id = await create_order(client, {"X-API-Key": writer}, order_body())
        seen = await data(client, ORDER, reader, id=order_id)
        assert seen["order"]["clientName"]
        assert await data(client, ORDER, twin, id=order_id) == seen
        assert counts(await scrape(client)) == (1, 1)  # the twin shares the entry
        assert await data(client, ORDER, broader, id=order_id) == seen
        assert counts(await scrape(client)) == (1, 2)  # other permissions: its own entry

        refused = await gql(client, ORDER, workflows, id=order_id)
        body = refused.json()
        assert body["data"] == {"order": None}
        assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"
        assert seen["order"]["clientName"] not in refused.text
        assert counts(await scrape(client)) == (1, 3)
        again = await gql(client, ORDER, workflows, id=order_id)
        assert again.json() == body
        assert counts(await scrape(client)) == (1, 4)  # an answer with errors is not stored


async def test_undeclared_fields_personal_reads_and_errors_are_never_stored(
    app_settings: Settings,
) -> None:
    async with running(app_settings) as (container, client):
        admin = await key(container, "admin")
        order_id = await create_order(client, {"X-API-Key": admin}, order_body())
        never = [
            ("query($id: ID!) { order(id: $id) { id events { type } } }", {"id": order_id}),
            ("{ me { name permissions } }", {}),
            ("{ logs(first: 5) { edges { node { message } } } }", {}),
            ("{ workflowRuns(first: 5) { edges { node { id } } } }", {}),
            ("{ failedJobs(first: 5) { edges { node { id } } } }", {}),
            ("{ apiKeys { edges { node { id lastUsedAt } } } }", {}),
        ]
        for query, variables in never * 2:
            await data(client, query, admin, **variables)
        assert counts(await scrape(client)) == (0, 0)  # not even looked up
        for _ in range(2):
            bad = await gql(client, ORDER, admin, id="not-a-uuid")
            assert bad.json()["errors"][0]["extensions"]["code"] == "INVALID_INPUT"
        assert counts(await scrape(client)) == (0, 2)


async def test_get_answers_carry_cache_control_and_an_etag(app_settings: Settings) -> None:
    async with running(app_settings) as (container, client):
        reader = await key(container, "orders:read", "orders:write")
        headers = {"X-API-Key": reader}
        order_id = await create_order(client, headers, order_body())
        params = {"query": ORDER, "variables": json.dumps({"id": order_id})}
        first = await client.get("/graphql", params=params, headers=headers)
        assert first.status_code == 200
        assert first.headers["cache-control"] == "private, max-age=60"
        etag = first.headers["etag"]
        second = await client.get("/graphql", params=params, headers=headers)  # a hit
        assert (second.headers["etag"], second.content) == (etag, first.content)
        assert counts(await scrape(client)) == (1, 1)
        assert second.headers["content-type"] == first.headers["content-type"]

        revalidated = await client.get(
            "/graphql", params=params, headers={**headers, "If-None-Match": f'W/{etag}, "x"'}
        )
        assert revalidated.status_code == 304
        assert revalidated.content == b""
        assert revalidated.headers["etag"] == etag
        assert revalidated.headers["cache-control"] == "private, max-age=60"
        stale = await client.get(
            "/graphql", params=params, headers={**headers, "If-None-Match": '"other"'}
        )
        assert (stale.status_code, stale.content) == (200, first.content)
        assert counts(await scrape(client)) == (3, 1)

        me = await client.get("/graphql", params={"query": "{ me { name } }"}, headers=headers)
        assert me.status_code == 200
        assert me.headers["cache-control"] == "no-store"
        posted = await gql(client, ORDER, reader, id=order_id)
        assert posted.headers["cache-control"] == "no-store"
        assert "etag" not in posted.headers


async def test_two_app_processes_share_answers_and_see_a_write_at_once(
    production_settings: Settings,
) -> None:
    async with AsyncExitStack() as stack:
        a, client_a = await stack.enter_async_context(running(production_settings))
        _, client_b = await stack.enter_async_context(running(production_settings))
        operator = await key(a, "orders:read", "orders:write")
        order_id = await create_order(client_a, {"X-API-Key": operator}, order_body())
        stored = await data(client_a, ORDER, operator, id=order_id)
        assert await data(client_b, ORDER, operator, id=order_id) == stored
        assert counts(await scrape(client_b)) == (1, 0)  # b served a's answer

        assert (await data(client_b, PROCESS, operator, ids=[order_id]))["markOrdersProcessed"]
        assert (await data(client_a, ORDER, operator, id=order_id))["order"]["processedAt"]
        assert counts(await scrape(client_a)) == (0, 2)


async def test_redis_stopped_bypasses_the_cache(postgres_url: str, private_redis: Any) -> None:
    process, redis_url = private_redis
    settings = Settings(database_url=postgres_url, redis_url=redis_url, db_pool_size=4)
    async with running(with_auth(settings)) as (container, client):
        operator = await key(container, "orders:read", "orders:write")
        order_id = await create_order(client, {"X-API-Key": operator}, order_body())
        stored = await data(client, ORDER, operator, id=order_id)
        assert await data(client, ORDER, operator, id=order_id) == stored  # a hit

        process.kill()
        await asyncio.to_thread(process.wait, 10)

        for _ in range(2):  # from the database, correct, never an error
            assert await data(client, ORDER, operator, id=order_id) == stored
        assert (await data(client, PROCESS, operator, ids=[order_id]))["markOrdersProcessed"]
        assert (await data(client, ORDER, operator, id=order_id))["order"]["processedAt"]
        assert counts(await scrape(client)) == (1, 4)


@asynccontextmanager
async def dropping(settings: Settings) -> AsyncIterator[None]:
    try:
        yield
    finally:
        if settings.redis_url:
            await drop_namespace(settings.redis_url, settings.redis_namespace)


async def test_a_get_hit_is_looked_up_with_the_admission(app_settings: Settings) -> None:
    # One call to the cache backend for authentication, rate limit and the answer: the view's
    # own lookup is not called for a GET (a POST, whose body the gate does not read, takes it).
    app = create_app(app_settings)
    (view,) = [r.app for r in app.routes if isinstance(r, Route) and r.path == "/graphql"]
    store = view.responses.cache.store
    own_lookups: list[str] = []
    real_lookup = store.lookup

    async def counted(key: str, prefixes: Any) -> Any:
        own_lookups.append(key)
        return await real_lookup(key, prefixes)

    store.lookup = counted
    # A hit found by the admission is sent before the stack (rest.cached_answers): the view
    # never sees it.
    views: list[str] = []
    real_answer = view.responses.answer

    async def seen(request: Any, run: Any) -> Any:
        views.append(request.method)
        return await real_answer(request, run)

    view.responses.answer = seen
    transport = httpx.ASGITransport(app)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=transport, base_url="http://test") as client,
        dropping(app_settings),
    ):
        container = app.state.container
        headers = {"X-API-Key": await key(container, "orders:read", "orders:write")}
        order_id = await create_order(client, headers, order_body())
        params = {"query": ORDER, "variables": json.dumps({"id": order_id})}
        for _ in range(3):  # the key's check is cached from the first on
            assert (await client.get("/graphql", params=params, headers=headers)).status_code == 200
        assert counts(await scrape(client)) == (2, 1)
        assert views.count("GET") == 1  # the miss; the two hits were answered at the edge
        # Only the first: the gate parses no document, so until the view has planned this one
        # (on that first request) the gate cannot probe it.
        assert len(own_lookups) == 1
        posted = await client.post(
            "/graphql", json={"query": ORDER, "variables": {"id": order_id}}, headers=headers
        )
        assert posted.json()["data"]["order"]["id"] == order_id
        assert len(own_lookups) == 2
        assert counts(await scrape(client)) == (3, 1)  # the same entry as the GETs


async def test_the_setting_turns_the_cache_off(app_settings: Settings) -> None:
    async with running(replace(app_settings, response_cache=False)) as (container, client):
        reader = await key(container, "orders:read", "orders:write")
        order_id = await create_order(client, {"X-API-Key": reader}, order_body())
        params = {"query": ORDER, "variables": json.dumps({"id": order_id})}
        for _ in range(2):
            got = await client.get("/graphql", params=params, headers={"X-API-Key": reader})
            assert got.status_code == 200
            assert got.headers["cache-control"] == "no-store"
            assert got.headers["etag"]
        assert counts(await scrape(client)) == (0, 0)
