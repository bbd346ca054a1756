"""Anonymous documents cannot grow a server's memory: a real `visapi serve`, measured from /proc.

The parsed form of a document is far larger than its text: ~2,000 tokens (the token limit) of
`[1,1,...]` are 4 KB of text and ~700 KB of tokens and AST nodes. A document cache counted in
entries let 200 such anonymous documents (parsing runs before authentication) keep ~150 MB.
"""

from __future__ import annotations

import subprocess
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest

from tests.auth import with_auth
from tests.processes import base_env, serve, wait_until_up
from tests.services import free_port
from visapi.asgi import create_app
from visapi.settings import Settings

JSON = "application/json"

CAP = 32_768  # VISAPI_MAX_QUERY_BYTES's default: every document here is just under it
ATTACK = 200
GROWTH_LIMIT = 20 * 1024 * 1024


def document(index: int) -> str:
    """Two shapes just under the cap: one valid (so cached), one as many tokens as allowed."""
    if index % 2:
        aliases = " ".join(f"a{n}: __typename" for n in range(29))
        head, tail = '{ __type(name: "', f'{index}") {{ name }} {aliases} }}'
        return head + "T" * (CAP - 64 - len(head) - len(tail)) + tail
    text = f"{{ __typename(x: [{','.join(['1'] * 1980)}]) }}\n# {index} "
    return text + "x" * (CAP - 64 - len(text))


def rss(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise AssertionError("no VmRSS in /proc")


@pytest.fixture
def server(sqlite_url: str, tmp_path: Path) -> Iterator[tuple[subprocess.Popen[bytes], str]]:
    port, log = free_port(), tmp_path / "serve.log"
    process = serve(port, base_env(VISAPI_DATABASE_URL=sqlite_url), log)
    try:
        base = f"http://127.0.0.1:{port}"
        wait_until_up(process, base, log)
        yield process, base
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def test_distinct_large_anonymous_documents_do_not_grow_memory(
    server: tuple[subprocess.Popen[bytes], str],
) -> None:
    process, base = server
    with httpx.Client(base_url=base, timeout=30) as client:

        def send(index: int) -> None:
            response = client.post("/graphql", json={"query": document(index)})
            # Refused or answered, never a server error; and no credentials were sent.
            assert response.status_code < 500, response.text
            assert "errors" in response.json() or response.json()["data"]

        # Warm up: the allocator's arenas, the cache's budget, lazy imports.
        for index in range(1_000_000, 1_000_060):
            send(index)
        before = rss(process.pid)
        for index in range(ATTACK):
            send(index)
        grown = rss(process.pid) - before
        assert client.post("/graphql", json={"query": "{ __typename }"}).json() == {
            "data": {"__typename": "Query"}
        }
    print(f"RSS {before / 2**20:.1f} MiB, +{grown / 2**20:.1f} MiB after {ATTACK} documents")
    assert grown < GROWTH_LIMIT, f"RSS grew by {grown / 2**20:.1f} MiB"


# --- the cap on the document's length ----------------------------------------------------------


@pytest.fixture
async def anonymous(sqlite_url: str) -> AsyncIterator[httpx.AsyncClient]:
    """The app in process, no credentials, a small cap."""
    app = create_app(with_auth(Settings(database_url=sqlite_url, max_query_bytes=1_000)))
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url="http://test") as client,
    ):
        yield client


def _refused(response: httpx.Response) -> None:
    assert response.status_code == 413, response.text
    error = response.json()["errors"][0]
    assert error["extensions"]["code"] == "PAYLOAD_TOO_LARGE"
    assert "1000 bytes" in error["message"]
    assert "query" in error["message"]


@pytest.mark.parametrize("accept", ["application/json", "application/graphql-response+json"])
async def test_a_query_over_the_cap_is_refused_by_post_and_get(
    anonymous: httpx.AsyncClient, accept: str
) -> None:
    query = "{ __typename }" + " " * 1_000
    headers = {"accept": accept}
    _refused(await anonymous.post("/graphql", json={"query": query}, headers=headers))
    _refused(await anonymous.get("/graphql", params={"query": query}, headers=headers))
    assert response_media(await anonymous.get("/graphql", params={"query": query})) == JSON


async def test_a_batch_cannot_carry_documents_past_the_cap(anonymous: httpx.AsyncClient) -> None:
    # Batches are not supported: a list of documents is refused whole, before any parsing.
    batch = [{"query": "{ __typename }" + " " * 900} for _ in range(3)]
    response = await anonymous.post("/graphql", json=batch)
    assert response.status_code == 400
    assert "must be a JSON object" in response.json()["errors"][0]["message"]


async def test_the_cap_counts_bytes_not_characters(anonymous: httpx.AsyncClient) -> None:
    at_cap = '{ __typename(x: "' + "a" * 979 + '") }'
    assert len(at_cap.encode()) == 1_000
    answered = await anonymous.post("/graphql", json={"query": at_cap})
    assert answered.status_code == 200  # a validation error (no such argument), not the cap
    assert answered.json()["errors"][0]["extensions"]["code"] == "INVALID_INPUT"
    over = at_cap.replace("a" * 4, "é" * 4)  # same characters, four bytes more
    _refused(await anonymous.post("/graphql", json={"query": over}))


async def test_variables_may_still_fill_the_body(anonymous: httpx.AsyncClient) -> None:
    query = "query Q($x: Boolean!) { __typename @include(if: $x) }"
    big = {"x": True, "padding": "v" * 500_000}  # unknown variables are ignored by GraphQL
    response = await anonymous.post("/graphql", json={"query": query, "variables": big})
    assert response.json() == {"data": {"__typename": "Query"}}


def response_media(response: httpx.Response) -> str:
    return response.headers["content-type"].split(";")[0]


# --- the cap on fragments ---------------------------------------------------------------------


def fragments(count: int) -> str:
    """`count` named fragments of `__typename` and a spread of each (2 * count fragments)."""
    spreads = " ".join(f"...F{n}" for n in range(count))
    defined = " ".join(f"fragment F{n} on Query {{ __typename }}" for n in range(count))
    return f"{{ {spreads} }} {defined}"


async def test_documents_with_more_fragments_than_allowed_are_refused_before_validation(
    sqlite_url: str,
) -> None:
    app = create_app(with_auth(Settings(database_url=sqlite_url)))
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url="http://test") as client,
    ):
        await _fragment_cap(client)


async def _fragment_cap(anonymous: httpx.AsyncClient) -> None:
    # 50 definitions + 50 spreads: the default cap of 100 exactly, answered.
    assert (await anonymous.post("/graphql", json={"query": fragments(50)})).json() == {
        "data": {"__typename": "Query"}
    }
    # One more of each, or inline fragments, past it: refused with the count, never validated.
    inline = "{ " + " ".join("... on Query { __typename }" for _ in range(101)) + " }"
    for query, count in ((fragments(51), 102), (inline, 101)):
        response = await anonymous.post("/graphql", json={"query": query})
        assert response.status_code == 200, response.text
        [error] = response.json()["errors"]
        assert error["extensions"]["code"] == "INVALID_INPUT"
        assert f"has {count} fragments" in error["message"]
        assert "at most 100" in error["message"]
