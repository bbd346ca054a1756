"""GraphQL-over-HTTP conformance: graphql-http's audit on a real uvicorn, and in-process checks."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest

from infrastructure.db.migrate import upgrade
from tests.processes import wait_until_up
from visapi.asgi import create_app
from visapi.settings import Settings

AUDIT_DIR = Path(__file__).resolve().parent / "graphql_http"
ROOT = Path(__file__).resolve().parents[2]
# graphql-http 1.23.1 (package-lock.json) defines 61 server audits: 13 on media types and
# methods, 38 on the request parameters (query, operationName, variables, extensions: types,
# nulls, maps; bad JSON) and 10 on status codes and `data` per response media type.
AUDITS = 61
GQL_RESPONSE = "application/graphql-response+json"


def _tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        reason = f"{name} is not installed: the graphql-http audit needs Node.js >= 18"
        if os.environ.get("CI") == "true":
            pytest.fail(f"{reason} (CI=true)", pytrace=False)
        pytest.skip(reason)
    return path


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="module")
def audit_tools() -> str:
    """The node binary, with graphql-http installed next to audit.mjs (`npm ci` if missing)."""
    node, npm = _tool("node"), _tool("npm")
    if not (AUDIT_DIR / "node_modules" / "graphql-http").is_dir():
        subprocess.run(
            [npm, "ci", "--no-audit", "--no-fund"],
            cwd=AUDIT_DIR,
            check=True,
            capture_output=True,
            timeout=300,
        )
    return node


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """`visapi serve` for real on a migrated SQLite file, embedded mode; yields /graphql's URL."""
    folder = tmp_path_factory.mktemp("audit")
    database = f"sqlite+aiosqlite:///{folder / 'visapi.db'}"
    upgrade(database)
    port = _free_port()
    env = {**os.environ, "VISAPI_DATABASE_URL": database, "VISAPI_LOG_LEVEL": "WARNING"}
    env.pop("VISAPI_REDIS_URL", None)
    serve = "from visapi.cli import main; main()"
    command = [sys.executable, "-c", serve, "serve", "--host", "127.0.0.1", "--port", str(port)]
    log = folder / "serve.log"  # a file, not a pipe: a full pipe would stall the server
    with log.open("w") as out:
        process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=out, stderr=out)
    try:
        base = f"http://127.0.0.1:{port}"
        wait_until_up(process, base, log)
        yield f"{base}/graphql"
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def test_graphql_http_audit(audit_tools: str, server: str) -> None:
    run = subprocess.run(
        [audit_tools, "audit.mjs", server],
        cwd=AUDIT_DIR,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    lines = run.stdout.strip().splitlines()
    summary = json.loads(lines[-1])
    for line in lines[:-1]:
        if not line.startswith("[ok]"):
            print(line)  # shown with -s or on failure: the audits that did not pass
    assert summary["total"] == AUDITS, run.stdout
    assert summary["error"] == 0, run.stdout
    assert summary["warn"] == 0, run.stdout
    assert summary["ok"] == AUDITS, run.stdout


# --- the same rules in-process (they run where Node.js is missing) ---------------------------


@pytest.fixture(scope="module")
async def client(
    sqlite_template: Path, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[httpx.AsyncClient]:
    """One app for the module (none of these requests touches the database). Only one embedded
    app may run at a time in a process (each runs a Dramatiq worker): no other starts here."""
    path = tmp_path_factory.mktemp("conformance") / "visapi.db"
    shutil.copyfile(sqlite_template, path)
    app = create_app(Settings(database_url=f"sqlite+aiosqlite:///{path}"))
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url="http://test") as client,
    ):
        yield client


@pytest.mark.parametrize(
    ("accept", "media"),
    [
        (None, "application/json"),
        ("*/*", "application/json"),
        ("application/json", "application/json"),
        (GQL_RESPONSE, GQL_RESPONSE),
        (f"{GQL_RESPONSE}, application/json;q=0.9", GQL_RESPONSE),
        (f"{GQL_RESPONSE};q=0, application/json", "application/json"),
    ],
)
async def test_media_type_negotiation(
    client: httpx.AsyncClient, accept: str | None, media: str
) -> None:
    headers = {"accept": accept} if accept else {}
    response = await client.post("/graphql", json={"query": "{ __typename }"}, headers=headers)
    assert response.status_code == 200
    assert response.headers["content-type"] == f"{media}; charset=utf-8"
    assert response.json() == {"data": {"__typename": "Query"}}


@pytest.mark.parametrize(
    ("body", "accept", "status", "has_data"),
    [
        ({"query": "{"}, "application/json", 200, True),
        ({"query": "{"}, GQL_RESPONSE, 400, False),
        ({"query": "{ nope }"}, "application/json", 200, True),
        ({"query": "{ nope }"}, GQL_RESPONSE, 400, False),
        (
            {"query": "query Q($id: ID!) { __typename }", "variables": {"id": None}},
            GQL_RESPONSE,
            400,
            False,
        ),
        (
            {"query": "query Q($id: ID!) { __typename }", "variables": {"id": None}},
            "application/json",
            200,
            True,
        ),
    ],
)
async def test_request_errors_by_media_type(
    client: httpx.AsyncClient, body: dict[str, object], accept: str, status: int, has_data: bool
) -> None:
    response = await client.post("/graphql", json=body, headers={"accept": accept})
    assert response.status_code == status
    assert response.headers["content-type"] == f"{accept}; charset=utf-8"
    assert ("data" in response.json()) is has_data
    assert response.json()["errors"][0]["extensions"]["code"] == "INVALID_INPUT"


@pytest.mark.parametrize(
    ("content", "content_type", "status"),
    [
        (b'{"query": "{ __typename }"', "application/json", 400),  # broken JSON
        (b"", "application/json", 400),
        (b"[1]", "application/json", 400),
        (b"0", "application/json", 400),
        (b'{"query": 0}', "application/json", 400),
        (b'{"query": "{ __typename }", "operationName": false}', "application/json", 400),
        (b'{"query": "{ __typename }", "variables": "x"}', "application/json", 400),
        (b'{"query": "{ __typename }", "extensions": []}', "application/json", 400),
        (b'{"qeury": "{ __typename }"}', "application/json", 400),
        (b'{"query": "query A { __typename }", "operationName": "B"}', "application/json", 400),
        (b'{"query": "{ __typename }"}', "text/plain", 415),
        (b'{"query": "{ __typename }"}', "application/json; charset=latin-1", 415),
    ],
)
async def test_malformed_requests_are_4xx_with_a_graphql_error(
    client: httpx.AsyncClient, content: bytes, content_type: str, status: int
) -> None:
    response = await client.post(
        "/graphql", content=content, headers={"content-type": content_type}
    )
    assert response.status_code == status
    body = response.json()
    assert set(body) == {"errors"}
    assert body["errors"][0]["message"]
    expected = "INVALID_INPUT" if status == 400 else "UNSUPPORTED_MEDIA_TYPE"
    assert body["errors"][0]["extensions"]["code"] == expected


async def test_get_queries_but_not_mutations(client: httpx.AsyncClient) -> None:
    query = await client.get(
        "/graphql",
        params={
            "query": "query T($n: String!) { __type(name: $n) { name } }",
            "variables": '{"n": "Query"}',
        },
    )
    assert query.status_code == 200
    assert query.json() == {"data": {"__type": {"name": "Query"}}}
    mutation = await client.get(
        "/graphql", params={"query": "mutation { __typename }"}, headers={"accept": GQL_RESPONSE}
    )
    assert (mutation.status_code, mutation.headers["allow"]) == (405, "POST")
    assert mutation.json()["errors"][0]["extensions"]["code"] == "METHOD_NOT_ALLOWED"
    put = await client.put("/graphql", json={"query": "{ __typename }"})
    assert (put.status_code, put.headers["allow"]) == (405, "GET, POST")
