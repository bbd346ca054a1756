"""HTTP behaviour of the whole app: health, readiness, version, middleware, errors, GraphiQL."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from types import SimpleNamespace
from typing import Any, cast

import httpx
import pytest
import strawberry
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine
from strawberry.extensions import SchemaExtension

from graph.errors import CodedError, CodedMaskErrors
from graph.orders import OrderQuery as Query
from graph.view import GraphQLView
from tests.auth import key, with_auth
from visapi.asgi import create_app
from visapi.settings import Settings

GQL_RESPONSE = "application/graphql-response+json"


@asynccontextmanager
async def serving(
    settings: Settings, *, authenticated: bool = True
) -> AsyncIterator[httpx.AsyncClient]:
    """The app with its lifespan running, behind an HTTP client sending an admin API key."""
    app = create_app(with_auth(settings))
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url="http://test") as client,
    ):
        if authenticated:
            client.headers["X-API-Key"] = await key(app.state.container, "admin")
        yield client


@pytest.fixture
async def client(
    sqlite_url: str, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[httpx.AsyncClient]:
    # Per test: embedded mode runs a Dramatiq worker, and only one may run in a process.
    monkeypatch.setenv("VISAPI_GIT_SHA", "0123abc")
    async with serving(Settings(database_url=sqlite_url)) as client:
        yield client


def code(response: httpx.Response) -> str:
    return str(response.json()["errors"][0]["extensions"]["code"])


# --- health, readiness, version ----------------------------------------------------------------


async def test_healthz_and_version(client: httpx.AsyncClient) -> None:
    health = await client.get("/api/v1/healthz")
    assert (health.status_code, health.json()) == (200, {"status": "ok"})
    version = (await client.get("/api/v1/version")).json()
    assert version["name"] == "visapi"
    assert re.fullmatch(r"\d+\.\d+\.\d+.*", version["version"])
    assert re.fullmatch(r"3\.\d+\.\d+", version["python"])
    assert version["commit"] == "0123abc"  # VISAPI_GIT_SHA when the app was created


async def test_readyz_ok_on_both_dialects(db_url: str) -> None:
    async with serving(Settings(database_url=db_url, db_pool_size=2)) as client:
        response = await client.get("/api/v1/readyz")
    assert response.status_code == 200
    assert response.json() == {
        "status": "ok",
        "checks": {"database": "ok", "cache": "ok", "broker": "ok", "migrations": "ok"},
    }


async def test_readyz_names_the_database_when_it_is_down() -> None:
    settings = Settings(database_url="postgresql+asyncpg://postgres@127.0.0.1:1/x")
    async with serving(settings, authenticated=False) as client:
        response = await client.get("/api/v1/readyz")
        assert (await client.get("/api/v1/healthz")).status_code == 200  # liveness does no I/O
    assert response.status_code == 503
    body = response.json()
    assert body["failing"] == ["database"]
    assert body["checks"]["database"].startswith("error")
    assert body["checks"]["cache"] == "ok"
    assert body["checks"]["migrations"] == "unchecked"  # asked only of a database that answers


async def test_readyz_names_the_cache_when_redis_is_down(sqlite_url: str) -> None:
    settings = Settings(database_url=sqlite_url, redis_url="redis://127.0.0.1:1/0")
    async with serving(settings) as client:
        response = await client.get("/api/v1/readyz")
    assert response.status_code == 503
    body = response.json()
    assert "cache" in body["failing"]
    assert "broker" in body["failing"]  # the same Redis
    assert body["checks"]["database"] == "ok"


@pytest.mark.redis
async def test_readyz_with_redis_up(sqlite_url: str, redis_url: str) -> None:
    async with serving(Settings(database_url=sqlite_url, redis_url=redis_url)) as client:
        response = await client.get("/api/v1/readyz")
    assert response.status_code == 200, response.text
    assert response.json()["checks"] == {
        "database": "ok",
        "cache": "ok",
        "broker": "ok",
        "migrations": "ok",
    }


# --- correlation ids, limits, methods ----------------------------------------------------------


async def test_error_answers_carry_the_correlation_id(client: httpx.AsyncClient) -> None:
    response = await client.put("/graphql", json={}, headers={"X-Correlation-Id": "cid-405"})
    assert response.status_code == 405
    assert response.headers["x-correlation-id"] == "cid-405"
    missing = await client.get("/nowhere", headers={"X-Correlation-Id": "cid-404"})
    assert (missing.status_code, code(missing)) == (404, "NOT_FOUND")
    assert missing.headers["x-correlation-id"] == "cid-404"


async def test_body_over_the_cap_is_413(client: httpx.AsyncClient) -> None:
    cap = Settings().max_body_bytes
    query = {"query": "{ __typename }", "variables": {"pad": "x" * cap}}
    declared = await client.post("/graphql", json=query)

    async def chunks() -> AsyncIterator[bytes]:  # no Content-Length: counted as it streams
        for _ in range(4):
            yield b" " * (cap // 3)

    streamed = await client.post(
        "/graphql", content=chunks(), headers={"content-type": "application/json"}
    )
    small = await client.post("/graphql", json={"query": "{ __typename }", "variables": {}})
    for response in (declared, streamed):
        assert response.status_code == 413
        assert code(response) == "PAYLOAD_TOO_LARGE"
        assert re.fullmatch(r"[0-9a-f]{32}", response.headers["x-correlation-id"])
    assert "transfer-encoding" in streamed.request.headers
    assert small.json() == {"data": {"__typename": "Query"}}


async def test_unexpected_error_is_masked_with_the_correlation_id(
    sqlite_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    # Break the read path for real: the orders table is gone under the running app.
    engine = create_async_engine(sqlite_url)
    async with engine.begin() as connection:
        await connection.execute(text("ALTER TABLE orders RENAME TO orders_gone"))
    await engine.dispose()
    async with serving(Settings(database_url=sqlite_url)) as client:
        response = await client.post(
            "/graphql",
            json={"query": "{ orders(first: 1) { totalCount } }"},
            headers={"X-Correlation-Id": "cid-masked"},
        )
    assert response.status_code == 200
    error = response.json()["errors"][0]
    assert error["message"] == "Unexpected error."
    assert error["extensions"] == {"code": "INTERNAL", "correlationId": "cid-masked"}
    assert "orders_gone" not in response.text
    assert "sqlite" not in response.text.lower()
    logged = [r for r in caplog.records if r.exc_info and r.name == "visapi.graphql"]
    assert logged
    assert getattr(logged[0], "correlation_id", None) == "cid-masked"


async def test_query_limits(sqlite_url: str) -> None:
    settings = Settings(database_url=sqlite_url, max_query_depth=3, max_aliases=2, max_tokens=40)
    deep = "{ orders { edges { node { events { id } } } } }"
    aliased = "{ a: __typename b: __typename c: __typename }"
    long = "{ " + " ".join(["__typename"] * 50) + " }"
    async with serving(settings) as client:
        responses = {
            name: await client.post("/graphql", json={"query": query})
            for name, query in (("depth", deep), ("aliases", aliased), ("tokens", long))
        }
        ok = await client.post("/graphql", json={"query": "{ a: __typename b: __typename }"})
    assert ok.json() == {"data": {"a": "Query", "b": "Query"}}
    messages = {name: r.json()["errors"][0]["message"] for name, r in responses.items()}
    assert "exceeds maximum operation depth" in messages["depth"]
    assert "aliases found" in messages["aliases"].lower()
    assert "token" in messages["tokens"].lower()
    for response in responses.values():
        assert response.status_code == 200
        assert response.json()["data"] is None
        assert code(response) == "INVALID_INPUT"


# --- GraphiQL ----------------------------------------------------------------------------------


async def test_graphiql_is_served_offline(client: httpx.AsyncClient) -> None:
    page = await client.get("/graphql", headers={"accept": "text/html,application/xhtml+xml"})
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    sources = re.findall(r"""(?:src|href)\s*=\s*["']([^"']+)["']""", page.text)
    assert any(s.endswith("graphiql.min.js") for s in sources)
    assert not [s for s in sources if s.startswith(("http://", "https://", "//"))]
    for source in sources:
        if source.startswith("/graphql/static/"):
            asset = await client.get(source)
            assert asset.status_code == 200, source
            assert asset.content, source
    # Not a browser: JSON, not the page.
    plain = await client.get("/graphql", headers={"accept": "*/*"})
    assert (plain.status_code, code(plain)) == (400, "INVALID_INPUT")


async def test_graphiql_can_be_turned_off(sqlite_url: str) -> None:
    async with serving(Settings(database_url=sqlite_url, graphiql=False)) as client:
        page = await client.get("/graphql", headers={"accept": "text/html"})
        asset = await client.get("/graphql/static/graphiql.min.js")
    assert page.status_code == 400
    assert page.headers["content-type"].startswith("application/json")
    assert asset.status_code == 404


@pytest.mark.parametrize(("refusal", "status"), [("UNAUTHENTICATED", 401), ("RATE_LIMITED", 429)])
@pytest.mark.parametrize("accept", ["application/json", GQL_RESPONSE])
async def test_an_extension_refusing_the_operation_picks_the_status(
    refusal: str, status: int, accept: str
) -> None:
    # How auth and rate limits (later issues) answer 401/429 on /graphql: a coded error raised
    # before execution. The view alone, on the real Query type and error masking.
    class Refuse(SchemaExtension):
        def on_operation(self) -> Iterator[None]:
            raise CodedError("Refused.", refusal)
            yield

    schema = strawberry.Schema(query=Query, extensions=[Refuse, CodedMaskErrors])
    view = GraphQLView(
        schema,
        cast(
            Any,
            SimpleNamespace(
                bus=None,
                orders=None,
                access=None,
                sandbox_records=None,
                queues=None,
                logs=None,
                workflows=None,
            ),
        ),
    )
    transport = httpx.ASGITransport(view)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        response = await client.post(
            "/", json={"query": "{ __typename }"}, headers={"accept": accept}
        )
    assert response.status_code == status
    assert response.json()["errors"] == [{"message": "Refused.", "extensions": {"code": refusal}}]
