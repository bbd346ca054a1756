"""CORS over HTTP: preflights answered before the gate (no key, no rate limit, no GraphQL),
allowed origins echoed with the rate-limit and correlation headers exposed, on error answers
too; other origins get no Access-Control-Allow-Origin; nothing at all when none is configured."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import replace
from typing import Any

import httpx
import pytest
from starlette.types import ASGIApp, Receive, Scope, Send

from rest.middleware import build_middleware
from tests.auth import key, running, with_auth
from visapi.settings import Settings

APP = "https://app.example.com"
DEV = "http://127.0.0.1:5173"
OTHER = "https://evil.example.net"
TYPENAME = {"query": "{ __typename }"}
ORDERS = {"query": "{ orders(first: 1) { totalCount } }"}


def preflight(origin: str, method: str = "POST", headers: str = "content-type,x-api-key") -> dict:
    return {
        "Origin": origin,
        "Access-Control-Request-Method": method,
        "Access-Control-Request-Headers": headers,
    }


@asynccontextmanager
async def serving(settings: Settings, **values: Any) -> AsyncIterator[httpx.AsyncClient]:
    """The app, lifespan running; `client.key` holds orders:read."""
    async with running(replace(settings, **values)) as (container, client):
        client.key = await key(container, "orders:read")  # type: ignore[attr-defined]
        yield client


@pytest.fixture
def sqlite_settings(sqlite_url: str) -> Settings:
    return with_auth(Settings(database_url=sqlite_url))


def vary(response: httpx.Response) -> set[str]:
    return {v.strip().lower() for v in response.headers.get("vary", "").split(",") if v.strip()}


async def test_without_origins_there_is_no_cors_at_all(sqlite_settings: Settings) -> None:
    async with serving(sqlite_settings) as client:
        options = await client.options("/graphql", headers=preflight(APP))
        post = await client.post("/graphql", json=TYPENAME, headers={"Origin": APP})
    assert options.status_code == 405  # as before: a preflight is refused, the page cannot call
    for response in (options, post):
        assert not [h for h in response.headers if h.startswith("access-control-")]
    assert post.json() == {"data": {"__typename": "Query"}}


async def test_a_preflight_needs_no_key_and_is_cached(sqlite_settings: Settings) -> None:
    async with serving(sqlite_settings, cors_origins=f"{APP}, {DEV}") as client:
        answers = [
            await client.options("/graphql", headers=preflight(origin)) for origin in (APP, DEV)
        ]
        get = await client.options("/graphql", headers=preflight(APP, "GET", "x-correlation-id"))
    for origin, response in zip((APP, DEV), answers, strict=True):
        assert response.status_code == 200, response.text
        h = response.headers
        assert h["access-control-allow-origin"] == origin
        assert h["access-control-allow-methods"] == "GET, POST"
        allowed = {v.strip().lower() for v in h["access-control-allow-headers"].split(",")}
        assert {"x-api-key", "authorization", "content-type", "x-correlation-id"} <= allowed
        assert h["access-control-max-age"] == "600"
        assert "origin" in vary(response)
        assert "access-control-allow-credentials" not in h  # keys travel in headers, not cookies
    assert get.status_code == 200


@pytest.mark.parametrize(
    "asked",
    [
        preflight(OTHER),  # an origin not listed
        preflight(APP.replace("https", "http")),  # another scheme is another origin
        preflight(APP, "DELETE"),
        preflight(APP, "POST", "x-api-key,x-sneaky"),
    ],
)
async def test_a_preflight_outside_the_policy_is_refused(
    sqlite_settings: Settings, asked: dict[str, str]
) -> None:
    async with serving(sqlite_settings, cors_origins=APP) as client:
        response = await client.options("/graphql", headers=asked)
    assert response.status_code == 400
    assert response.text.startswith("Disallowed CORS")
    if asked["Origin"] != APP:
        assert "access-control-allow-origin" not in response.headers


async def test_preflights_count_against_no_rate_limit(app_settings: Settings) -> None:
    async with serving(app_settings, cors_origins=APP, rate_limit_per_ip=2) as client:
        for _ in range(5):
            response = await client.options("/graphql", headers=preflight(APP))
            assert response.status_code == 200
            assert "x-ratelimit-limit" not in response.headers
        # The anonymous per-IP budget of 2 is untouched by the five preflights.
        first = await client.post("/graphql", json=TYPENAME, headers={"Origin": APP})
    assert first.status_code == 200
    assert first.headers["x-ratelimit-remaining"] == "1"


async def test_an_allowed_origin_reads_the_answer_and_its_headers(app_settings: Settings) -> None:
    async with serving(app_settings, cors_origins=APP) as client:
        response = await client.post(
            "/graphql",
            json=ORDERS,
            headers={"Origin": APP, "X-API-Key": client.key},  # type: ignore[attr-defined]
        )
    assert response.status_code == 200
    assert response.json() == {"data": {"orders": {"totalCount": 0}}}
    h = response.headers
    assert h["access-control-allow-origin"] == APP
    exposed = {v.strip().lower() for v in h["access-control-expose-headers"].split(",")}
    sent = {"x-ratelimit-limit", "x-ratelimit-remaining", "x-ratelimit-reset", "x-correlation-id"}
    assert sent <= set(h)  # the headers exposed are the ones the server sends
    assert sent | {"retry-after"} <= exposed
    assert "origin" in vary(response)


async def test_another_origin_is_served_but_not_allowed(sqlite_settings: Settings) -> None:
    async with serving(sqlite_settings, cors_origins=APP) as client:
        other = await client.post("/graphql", json=TYPENAME, headers={"Origin": OTHER})
        none = await client.post("/graphql", json=TYPENAME)
    for response in (other, none):
        assert response.status_code == 200  # the server answers; a browser withholds it
        assert "access-control-allow-origin" not in response.headers
        assert "origin" in vary(response)  # a shared cache must not reuse it for another


async def test_any_origin_in_development(sqlite_settings: Settings) -> None:
    async with serving(sqlite_settings, cors_origins="*") as client:
        options = await client.options("/graphql", headers=preflight(OTHER))
        post = await client.post("/graphql", json=TYPENAME, headers={"Origin": OTHER})
    assert options.headers["access-control-allow-origin"] == "*"
    assert post.headers["access-control-allow-origin"] == "*"


async def test_error_answers_carry_the_headers(sqlite_settings: Settings) -> None:
    async with serving(
        sqlite_settings, cors_origins=APP, rate_limit_per_ip=1, max_body_bytes=2_000
    ) as client:
        origin = {"Origin": APP}
        unauthenticated = await client.post("/graphql", json=ORDERS, headers=origin)
        limited = await client.post("/graphql", json=TYPENAME, headers=origin)
        too_large = await client.post(
            "/graphql",
            json={"query": "{ __typename }", "variables": {"x": "a" * 3_000}},
            headers={**origin, "X-API-Key": client.key},  # type: ignore[attr-defined]
        )
        missing = await client.get(
            "/no/such/path",
            headers={**origin, "X-API-Key": client.key},  # type: ignore[attr-defined]
        )
    expected = [(unauthenticated, 401), (limited, 429), (too_large, 413), (missing, 404)]
    for response, status in expected:
        assert response.status_code == status, response.text
        assert response.headers["access-control-allow-origin"] == APP
        assert response.json()["errors"][0]["extensions"]["code"]
    assert limited.headers["retry-after"]


async def broken(scope: Scope, receive: Receive, send: Send) -> None:
    raise RuntimeError("boom")


async def slow(scope: Scope, receive: Receive, send: Send) -> None:
    await asyncio.sleep(30)  # a view slower than the timeout: cancelled by it


def wrapped(app: ASGIApp) -> ASGIApp:
    """`app` inside the product's middleware stack, CORS configured."""
    stack = build_middleware(timeout_s=0.05, max_body_bytes=1_000, cors_origins=(APP,))
    for cls, args, kwargs in reversed(stack):
        app = cls(app, *args, **kwargs)
    return app


@pytest.mark.parametrize(("app", "status"), [(broken, 500), (slow, 504)])
async def test_server_errors_carry_the_headers(app: ASGIApp, status: int) -> None:
    transport = httpx.ASGITransport(wrapped(app))
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        response = await client.post("/graphql", json=TYPENAME, headers={"Origin": APP})
    assert response.status_code == status
    assert response.headers["access-control-allow-origin"] == APP
    assert response.headers["x-correlation-id"]
    assert "x-correlation-id" in response.headers["access-control-expose-headers"].lower()
