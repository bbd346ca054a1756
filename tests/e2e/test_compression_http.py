"""Compression over HTTP: large answers and the GraphiQL files gzipped for clients that accept
it (and decoded to the very same bytes), small ones and event streams never, Vary and ETag
right."""

from __future__ import annotations

import gzip
import importlib.resources
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
import orjson
import pytest
from starlette.responses import Response, StreamingResponse
from starlette.types import ASGIApp, Receive, Scope, Send

from rest.middleware import build_middleware
from tests.auth import with_auth
from visapi.asgi import create_app
from visapi.settings import Settings

GZIP = {"Accept-Encoding": "gzip, deflate, br"}
IDENTITY = {"Accept-Encoding": "identity"}
# Anonymous introspection in development: a JSON answer of several KB.
TYPES = {"query": "{ __schema { types { name kind description } } }"}


@asynccontextmanager
async def serving(sqlite_url: str) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(with_auth(Settings(database_url=sqlite_url)))
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url="http://t") as client,
    ):
        yield client


async def raw(
    client: httpx.AsyncClient, method: str, url: str, **kwargs: object
) -> tuple[httpx.Response, bytes]:
    """The answer and its body as sent (httpx would decode gzip)."""
    async with client.stream(method, url, **kwargs) as response:  # type: ignore[arg-type]
        body = b"".join([chunk async for chunk in response.aiter_raw()])
    return response, body


def graphiql_file(name: str) -> bytes:
    return importlib.resources.files("visapi").joinpath("static/graphiql", name).read_bytes()


@pytest.mark.parametrize(
    ("name", "ratio"),
    [
        ("graphiql.min.js", 0.4),  # 978 KB
        ("react-dom.production.min.js", 0.4),
        ("graphiql.min.css", 0.7),  # two thirds are fonts, base64 of woff2 (compressed already)
    ],
)
async def test_the_graphiql_files_go_out_gzipped(sqlite_url: str, name: str, ratio: float) -> None:
    plain = graphiql_file(name)
    async with serving(sqlite_url) as client:
        zipped, sent = await raw(client, "GET", f"/graphql/static/{name}", headers=GZIP)
        _, sent_again = await raw(client, "GET", f"/graphql/static/{name}", headers=GZIP)
        identity, sent_plain = await raw(client, "GET", f"/graphql/static/{name}", headers=IDENTITY)
        revalidated = await client.get(
            f"/graphql/static/{name}", headers={**GZIP, "If-None-Match": zipped.headers["etag"]}
        )
    assert zipped.status_code == 200
    assert zipped.headers["content-encoding"] == "gzip"
    assert zipped.headers["vary"] == "Accept-Encoding"
    assert int(zipped.headers["content-length"]) == len(sent)
    assert len(sent) < len(plain) * ratio
    assert gzip.decompress(sent) == plain
    assert sent_again == sent  # compressed once, the same bytes after
    # Another representation of the same file: a weak validator, still matched on revalidation.
    assert zipped.headers["etag"] == f"W/{identity.headers['etag']}"
    assert revalidated.status_code == 304
    assert "content-encoding" not in identity.headers
    assert sent_plain == plain


async def test_large_answers_are_compressed_and_small_ones_not(sqlite_url: str) -> None:
    async with serving(sqlite_url) as client:
        large, large_sent = await raw(client, "POST", "/graphql", json=TYPES, headers=GZIP)
        plain, plain_sent = await raw(client, "POST", "/graphql", json=TYPES, headers=IDENTITY)
        refused, _ = await raw(
            client, "POST", "/graphql", json=TYPES, headers={"Accept-Encoding": "gzip;q=0, br"}
        )
        small, small_sent = await raw(
            client, "POST", "/graphql", json={"query": "{ __typename }"}, headers=GZIP
        )
    assert len(plain_sent) > 4_000
    assert large.headers["content-encoding"] == "gzip"
    assert "accept-encoding" in large.headers["vary"].lower()
    assert len(large_sent) < len(plain_sent) / 3
    assert orjson.loads(gzip.decompress(large_sent)) == orjson.loads(plain_sent)
    assert "errors" not in orjson.loads(plain_sent)
    for response in (plain, refused, small):
        assert "content-encoding" not in response.headers
    assert orjson.loads(small_sent) == {"data": {"__typename": "Query"}}


def wrapped(app: ASGIApp) -> ASGIApp:
    for cls, args, kwargs in reversed(build_middleware(timeout_s=5, max_body_bytes=1_000)):
        app = cls(app, *args, **kwargs)
    return app


async def events(scope: Scope, receive: Receive, send: Send) -> None:
    async def stream() -> AsyncIterator[bytes]:
        for n in range(50):
            yield f"event: tick\ndata: {'x' * 100} {n}\n\n".encode()

    await StreamingResponse(stream(), media_type="text/event-stream")(scope, receive, send)


async def tagged(scope: Scope, receive: Receive, send: Send) -> None:
    body = orjson.dumps({"data": {"rows": ["row"] * 1_000}})
    await Response(body, headers={"etag": '"v1"'}, media_type="application/json")(
        scope, receive, send
    )


async def test_event_streams_are_never_compressed() -> None:
    transport = httpx.ASGITransport(wrapped(events))
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        response, sent = await raw(client, "GET", "/", headers=GZIP)
    assert "content-encoding" not in response.headers
    assert sent.count(b"event: tick") == 50


async def test_a_compressed_answer_gets_a_weak_etag() -> None:
    transport = httpx.ASGITransport(wrapped(tagged))
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        zipped, _ = await raw(client, "GET", "/", headers=GZIP)
        plain, _ = await raw(client, "GET", "/", headers=IDENTITY)
    assert zipped.headers["content-encoding"] == "gzip"
    assert zipped.headers["etag"] == 'W/"v1"'
    assert plain.headers["etag"] == '"v1"'
