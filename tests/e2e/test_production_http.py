"""The production profile (VISAPI_ENV=production) over HTTP: introspection for admins only,
GraphiQL only when asked for, build details hidden; security headers in every profile."""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.auth import key, with_auth
from tests.processes import base_env, servers
from tests.services import unavailable
from visapi.asgi import create_app
from visapi.settings import Settings

HTML = {"accept": "text/html,application/xhtml+xml"}
SCHEMA = "{ __schema { queryType { name } } }"
HIDDEN = 'query { ...F } fragment F on Query { __type(name: "Order") { name } }'


@asynccontextmanager
async def serving(sqlite_url: str, **values: Any) -> AsyncIterator[httpx.AsyncClient]:
    """The app with its lifespan running; `client.keys[scope]` is a key holding that scope.

    Free-form documents stay allowed (production's default is `trusted`: only pushed documents
    run, tests/e2e/test_persisted_documents_http.py), so these tests see the profile's rest."""
    values = {"documents": "any", **values}
    app = create_app(with_auth(Settings(database_url=sqlite_url, **values)))
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url="http://test") as client,
    ):
        container = app.state.container
        client.keys = {s: await key(container, s) for s in ("admin", "orders:read")}  # type: ignore[attr-defined]
        yield client


async def ask(client: httpx.AsyncClient, query: str, scope: str | None = None) -> httpx.Response:
    headers = {"X-API-Key": client.keys[scope]} if scope else {}  # type: ignore[attr-defined]
    return await client.post("/graphql", json={"query": query}, headers=headers)


def error(response: httpx.Response) -> dict[str, Any]:
    body = response.json()
    assert body.get("data") is None, body
    first: dict[str, Any] = body["errors"][0]
    return first


# --- introspection -----------------------------------------------------------------------------


@pytest.mark.parametrize("query", [SCHEMA, HIDDEN])
async def test_production_introspection_is_for_admins_only(sqlite_url: str, query: str) -> None:
    async with serving(sqlite_url, env="production") as client:
        anonymous = await ask(client, query)
        reader = await ask(client, query, "orders:read")
        admin = await ask(client, query, "admin")
        typename = await ask(client, "{ __typename }")
    assert anonymous.status_code == 401
    assert error(anonymous)["extensions"]["code"] == "UNAUTHENTICATED"
    assert "allowed only to callers holding `admin`" in error(anonymous)["message"]
    assert reader.status_code == 403
    assert error(reader)["extensions"] == {"code": "FORBIDDEN", "permission": "admin"}
    assert admin.status_code == 200
    assert "errors" not in admin.json()
    assert admin.json()["data"]
    assert typename.json() == {"data": {"__typename": "Query"}}


async def test_production_gives_no_field_suggestions(sqlite_url: str) -> None:
    async with serving(sqlite_url, env="production") as client:
        typo = await ask(client, "{ ordersz { totalCount } }", "admin")
    assert "Cannot query field 'ordersz'" in error(typo)["message"]
    assert "Did you mean" not in error(typo)["message"]


async def test_development_introspection_stays_open(sqlite_url: str) -> None:
    async with serving(sqlite_url) as client:
        anonymous = await ask(client, SCHEMA)
        typo = await ask(client, "{ ordersz { totalCount } }", "admin")
    assert anonymous.json() == {"data": {"__schema": {"queryType": {"name": "Query"}}}}
    assert "Did you mean" in error(typo)["message"]


# --- GraphiQL ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("values", "served"),
    [
        ({}, True),
        ({"env": "production"}, False),
        ({"env": "production", "graphiql": True}, True),
        ({"graphiql": False}, False),
    ],
)
async def test_graphiql_is_off_in_production_unless_asked_for(
    sqlite_url: str, values: dict[str, Any], served: bool
) -> None:
    async with serving(sqlite_url, **values) as client:
        page = await client.get("/graphql", headers=HTML)
        asset = await client.get("/graphql/static/graphiql.min.js")
    assert page.headers["content-type"].startswith("text/html" if served else "application/json")
    assert asset.status_code == (200 if served else 404)


# --- version and headers -----------------------------------------------------------------------


async def test_production_version_names_the_app_version_only(
    sqlite_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("VISAPI_GIT_SHA", "0123abc")
    async with serving(sqlite_url, env="production") as client:
        production = (await client.get("/api/v1/version")).json()
    async with serving(sqlite_url) as client:
        development = (await client.get("/api/v1/version")).json()
    assert set(production) == {"name", "version"}
    assert production["version"] == development["version"]
    assert development["python"].startswith("3.11.")  # development stays convenient
    assert development["commit"] == "0123abc"


@pytest.mark.parametrize("env", ["development", "production"])
async def test_every_answer_carries_the_security_headers(sqlite_url: str, env: str) -> None:
    async with serving(sqlite_url, env=env, graphiql=True) as client:
        answers = [
            await client.get("/api/v1/healthz"),
            await ask(client, "{ __typename }"),
            await ask(client, "{ orders { totalCount } }"),  # 401 from the gate
            await client.get("/no/such/path"),  # Starlette's 404
            await client.post("/graphql", content=b"{", headers={"content-type": "text/plain"}),
            await client.get("/graphql", headers=HTML),
            await client.get("/graphql/static/graphiql.min.css"),
        ]
    for response in answers:
        headers = response.headers
        csp = headers["content-security-policy"]
        assert "default-src 'none'" in csp, response.url
        assert "script-src 'self';" in csp  # nothing inline: GraphiQL's own script is a file
        assert "frame-ancestors 'none'" in csp
        assert headers["x-frame-options"] == "DENY"
        assert headers["x-content-type-options"] == "nosniff"
        assert headers["referrer-policy"] == "no-referrer"
    assert {r.status_code for r in answers} == {200, 401, 404, 415}


async def test_the_graphiql_page_has_nothing_inline(sqlite_url: str) -> None:
    async with serving(sqlite_url) as client:
        page = (await client.get("/graphql", headers=HTML)).text
    # A Content-Security-Policy without 'unsafe-inline' would block these.
    assert "<script>" not in page
    assert "<style" not in page
    assert " style=" not in page


def test_graphiql_renders_under_the_policy_in_chromium(sqlite_url: str, tmp_path: Path) -> None:
    """A real browser: the page's scripts run under the policy (an inline one would not)."""
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    if browser is None:
        unavailable("chromium is not installed (apt-get install chromium; .ci/run does)")
    env = base_env(VISAPI_DATABASE_URL=sqlite_url, VISAPI_ENV="production", VISAPI_GRAPHIQL="true")
    with servers(env, tmp_path, 1) as (base,):
        dom = subprocess.run(
            [browser, "--headless=new", "--no-sandbox", "--disable-gpu",
             "--virtual-time-budget=8000", "--dump-dom", f"{base}/graphql"],
            capture_output=True, text=True, timeout=120, check=True,
        ).stdout  # fmt: skip
    assert 'class="graphiql-container"' in dom  # rendered by React from visapi.js
    assert "CodeMirror" in dom  # the editors too
