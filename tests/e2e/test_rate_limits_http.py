"""Rate limits over HTTP in both modes: per key and per IP with X-RateLimit-* headers, 429 with
Retry-After, failed authentications throttled per IP and key prefix, probes exempt; a dead
Redis fails open."""

from __future__ import annotations

import asyncio
import logging
import secrets
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import replace
from typing import Any

import httpx
import pytest
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from domain.auth.permissions import Permission
from rest.gate import require
from tests.auth import codes, drop_namespace, errors_of, issue, key, token, with_auth
from visapi.asgi import create_app
from visapi.bootstrap import Container
from visapi.settings import Settings

TYPENAME = {"query": "{ __typename }"}
PROBES = ("/api/v1/healthz", "/api/v1/version", "/api/v1/readyz")


async def protected(request: Request) -> Response:
    refusal = require(request, Permission.ORDERS_WRITE)
    return refusal or JSONResponse({"ok": True})


@asynccontextmanager
async def app_with_clients(
    settings: Settings,
) -> AsyncIterator[tuple[Container, httpx.AsyncClient, httpx.AsyncClient]]:
    """The app (plus a REST route guarded by `require`) and clients from two IP addresses."""
    app = create_app(settings)
    app.router.routes.append(Route("/api/v1/test-protected", protected, methods=["POST"]))
    clients = [
        httpx.AsyncClient(
            transport=httpx.ASGITransport(app, client=(ip, 4000)), base_url="http://t"
        )
        for ip in ("10.0.0.1", "10.0.0.2")
    ]
    try:
        async with app.router.lifespan_context(app), clients[0], clients[1]:
            yield app.state.container, clients[0], clients[1]
    finally:
        if settings.redis_url:
            await drop_namespace(settings.redis_url, settings.redis_namespace)


def limits(response: httpx.Response) -> tuple[str, str, str] | None:
    h = response.headers
    if "x-ratelimit-limit" not in h:
        return None
    return h["x-ratelimit-limit"], h["x-ratelimit-remaining"], h["x-ratelimit-reset"]


@pytest.fixture
def small(app_settings: Settings) -> Settings:
    return replace(
        app_settings, rate_limit_per_key=3, rate_limit_per_ip=2, rate_limit_failed_auth=2
    )


async def test_per_key_limit_with_headers_then_429(small: Settings) -> None:
    async with app_with_clients(small) as (container, one, two):
        first, second = await key(container, "orders:read"), await key(container, "orders:read")
        seen = []
        for _ in range(3):
            response = await one.post("/graphql", json=TYPENAME, headers={"X-API-Key": first})
            assert response.status_code == 200
            seen.append(limits(response))
        assert [s[:2] for s in seen if s] == [("3", "2"), ("3", "1"), ("3", "0")]
        assert all(0 < int(s[2]) <= 60 for s in seen if s)
        refused = await two.post("/graphql", json=TYPENAME, headers={"X-API-Key": first})
        assert (refused.status_code, codes(refused)) == (429, ["RATE_LIMITED"])
        assert 1 <= int(refused.headers["retry-after"]) <= 60
        assert limits(refused) is not None
        assert refused.headers["x-ratelimit-remaining"] == "0"
        other = await one.post("/graphql", json=TYPENAME, headers={"X-API-Key": second})
        assert (other.status_code, limits(other)[:2] if limits(other) else None) == (
            200,
            ("3", "2"),
        )


async def test_per_ip_limit_for_anonymous_callers_and_exempt_probes(small: Settings) -> None:
    async with app_with_clients(small) as (_, one, two):
        assert [(await one.post("/graphql", json=TYPENAME)).status_code for _ in range(3)] == [
            200,
            200,
            429,
        ]
        assert (await two.post("/graphql", json=TYPENAME)).status_code == 200  # another address
        for path in PROBES:
            for _ in range(5):
                probe = await one.get(path)
                assert probe.status_code == 200, path
                assert limits(probe) is None


def bad_secret(prefix: str) -> dict[str, str]:
    return {"X-API-Key": f"{prefix}.{secrets.token_hex(32)}"}


async def locked(response: httpx.Response) -> bool:
    if response.status_code != 429:
        return False
    assert codes(response) == ["RATE_LIMITED"]
    assert errors_of(response)[0]["message"] == "Too many failed authentications."
    assert int(response.headers["retry-after"]) >= 1
    return True


async def test_failed_authentications_lock_only_that_prefix_from_that_ip(small: Settings) -> None:
    async with app_with_clients(small) as (container, one, two):
        good = {"X-API-Key": await key(container, "orders:read")}  # never checked before
        bad = bad_secret("vk_0000000000000000")
        for _ in range(2):
            assert (await one.post("/graphql", json=TYPENAME, headers=bad)).status_code == 401
        assert await locked(await one.post("/graphql", json=TYPENAME, headers=bad))
        # Behind a load balancer every client shares the IP: one guesser must not lock them out.
        assert (await one.post("/graphql", json=TYPENAME, headers=good)).status_code == 200
        assert (await two.post("/graphql", json=TYPENAME, headers=bad)).status_code == 401
        assert (await one.post("/graphql", json=TYPENAME)).status_code == 200  # no credentials


async def test_a_verified_key_is_admitted_though_its_own_prefix_is_locked(
    small: Settings,
) -> None:
    async with app_with_clients(small) as (container, one, _):
        issued = await issue(container, "orders:read")
        mine = {"X-API-Key": issued.secret}
        assert (await one.post("/graphql", json=TYPENAME, headers=mine)).status_code == 200
        guesses = [
            await one.post("/graphql", json=TYPENAME, headers=bad_secret(issued.key.prefix))
            for _ in range(3)
        ]
        assert [g.status_code for g in guesses] == [401, 401, 429]
        assert await locked(guesses[-1])
        again = await one.post("/graphql", json=TYPENAME, headers=mine)
        assert (again.status_code, limits(again)[:2] if limits(again) else None) == (
            200,
            ("3", "1"),
        )


async def test_tokens_and_malformed_credentials_count_apart(small: Settings) -> None:
    async with app_with_clients(small) as (container, one, _):
        forged = {"Authorization": f"Bearer {token(secret='not-the-identity-providers-' * 2)}"}
        basic = {"Authorization": "Basic dXNlcjpwYXNz"}
        for headers in (forged, basic):
            for _ in range(2):
                answer = await one.post("/graphql", json=TYPENAME, headers=headers)
                assert (answer.status_code, codes(answer)) == (401, ["UNAUTHENTICATED"])
            assert await locked(await one.post("/graphql", json=TYPENAME, headers=headers))
        for headers in (
            {"Authorization": f"Bearer {token()}"},  # verifies: never blocked
            {"X-API-Key": await key(container, "orders:read")},
        ):
            assert (await one.post("/graphql", json=TYPENAME, headers=headers)).status_code == 200


async def test_concurrent_bad_secrets_are_counted_before_the_hash(app_settings: Settings) -> None:
    settings = replace(app_settings, rate_limit_failed_auth=30)
    async with app_with_clients(settings) as (container, one, _):
        prefix = (await issue(container, "orders:read")).key.prefix
        answers = await asyncio.gather(
            *(one.post("/graphql", json=TYPENAME, headers=bad_secret(prefix)) for _ in range(60))
        )
        statuses = [a.status_code for a in answers]
        assert (statuses.count(401), statuses.count(429)) == (30, 30)


async def test_rest_routes_answer_401_and_403(app_settings: Settings) -> None:
    async with app_with_clients(app_settings) as (container, one, _):
        path = "/api/v1/test-protected"
        reader = {"X-API-Key": await key(container, "orders:read")}
        writer = {"X-API-Key": await key(container, "orders:write")}
        anonymous = await one.post(path)
        assert (anonymous.status_code, codes(anonymous)) == (401, ["UNAUTHENTICATED"])
        forbidden = await one.post(path, headers=reader)
        assert forbidden.status_code == 403
        assert errors_of(forbidden)[0]["extensions"] == {
            "code": "FORBIDDEN",
            "permission": "orders:write",
        }
        assert (await one.post(path, headers=writer)).json() == {"ok": True}
        wrong = await one.post(path, headers={"X-API-Key": "vk_x.y"})
        assert (wrong.status_code, codes(wrong)) == (401, ["UNAUTHENTICATED"])


@pytest.mark.redis
async def test_redis_down_fails_open_logged_and_counted(
    postgres_url: str, private_redis: Any, caplog: pytest.LogCaptureFixture
) -> None:
    process, redis_url = private_redis
    settings = with_auth(
        Settings(database_url=postgres_url, redis_url=redis_url, db_pool_size=4),
        rate_limit_per_ip=1,
        secret_key="k" * 32,
    )
    async with app_with_clients(settings) as (container, one, _):
        full = await key(container, "orders:read")
        before = await one.post("/graphql", json=TYPENAME, headers={"X-API-Key": full})
        assert limits(before) is not None
        process.kill()
        process.wait(timeout=10)
        with caplog.at_level(logging.WARNING):
            for _ in range(3):  # over the per-IP limit of 1: nothing can count, so all pass
                anonymous = await one.post("/graphql", json=TYPENAME)
                assert (anonymous.status_code, limits(anonymous)) == (200, None)
            me = await one.post(
                "/graphql", json={"query": "{ me { name } }"}, headers={"X-API-Key": full}
            )
            assert me.json() == {"data": {"me": {"name": "tests"}}}
        assert container.access.limiter.failures >= 4  # type: ignore[attr-defined]
        warnings = [r.getMessage() for r in caplog.records if r.name == "visapi.ratelimit"]
        assert len(warnings) == 1
        assert warnings[0].startswith("rate limits: Redis call failed, failing open")
