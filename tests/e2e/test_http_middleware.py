"""The product's middleware stack, in its order, around stand-in ASGI apps (slow, broken, echo)."""

from __future__ import annotations

import asyncio
import io
import json
import logging
import re
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
import pytest
from starlette.types import ASGIApp, Receive, Scope, Send

from rest.middleware import build_middleware
from visapi.logging import configure_logging, correlation_id
from visapi.settings import Settings


@pytest.fixture
def log_output() -> Iterator[io.StringIO]:
    """What `configure_logging`'s handler writes during one test; then the root as it was."""
    root = logging.getLogger()
    level, handlers = root.level, list(root.handlers)
    configure_logging("INFO")
    output = io.StringIO()
    for handler in root.handlers:
        if getattr(handler, "visapi", False):
            handler.setStream(output)  # type: ignore[attr-defined]
    yield output
    root.handlers[:] = handlers
    root.setLevel(level)


def wrapped(app: ASGIApp, settings: Settings) -> ASGIApp:
    """`app` inside the product's middleware, in the product's order."""
    for cls, args, kwargs in reversed(
        build_middleware(
            timeout_s=settings.request_timeout_s, max_body_bytes=settings.max_body_bytes
        )
    ):
        app = cls(app, *args, **kwargs)
    return app


@asynccontextmanager
async def around(app: ASGIApp, **settings: Any) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(wrapped(app, Settings(**settings)))
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        yield client


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        ({"X-Correlation-Id": "order-42.retry:1"}, "order-42.retry:1"),
        ({"X-Request-Id": "req_ABC-9"}, "req_ABC-9"),
        ({"X-Request-Id": "req/ABC-9"}, None),  # a slash: not in the sane alphabet
        ({"X-Correlation-Id": "a" * 64}, "a" * 64),
        ({"X-Correlation-Id": "a" * 65}, None),
        ({"X-Correlation-Id": "bad id<script>"}, None),
        ({"X-Correlation-Id": "cid-1", "X-Request-Id": "rid-1"}, "cid-1"),
        ({}, None),
    ],
)
async def test_correlation_id_is_echoed_or_generated(
    headers: dict[str, str], expected: str | None
) -> None:
    seen: list[tuple[str | None, str | None]] = []

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        seen.append((scope["state"]["correlation_id"], correlation_id.get()))
        await send({"type": "http.response.start", "status": 204, "headers": []})
        await send({"type": "http.response.body", "body": b""})

    async with around(app) as client:
        echoed = (await client.get("/", headers=headers)).headers["x-correlation-id"]
    if expected is None:
        assert re.fullmatch(r"[0-9a-f]{32}", echoed)
    else:
        assert echoed == expected
    assert seen == [(echoed, echoed)]  # in the scope for the view, in the context for logs
    assert correlation_id.get() is None


async def test_a_slow_request_times_out_with_504() -> None:
    cancelled = asyncio.Event()

    async def slow(scope: Scope, receive: Receive, send: Send) -> None:
        try:
            await asyncio.sleep(30)  # a view slower than the timeout: it must be cancelled
        except asyncio.CancelledError:
            cancelled.set()
            raise

    async def streaming(scope: Scope, receive: Receive, send: Send) -> None:
        # Answers at once, then takes longer than the timeout to finish its body: not cut.
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await asyncio.sleep(0.3)
        await send({"type": "http.response.body", "body": b"done"})

    async with around(slow, request_timeout_s=0.05) as client:
        response = await client.get("/", headers={"X-Correlation-Id": "cid-slow"})
    assert response.status_code == 504
    assert response.json()["errors"][0]["extensions"] == {
        "code": "TIMEOUT",
        "correlationId": "cid-slow",
    }
    assert response.headers["x-correlation-id"] == "cid-slow"
    assert cancelled.is_set()
    async with around(streaming, request_timeout_s=0.05) as client:
        finished = await client.get("/")
    assert (finished.status_code, finished.text) == (200, "done")


async def test_an_unhandled_exception_is_a_logged_500_with_the_correlation_id(
    log_output: io.StringIO,
) -> None:
    async def broken(scope: Scope, receive: Receive, send: Send) -> None:
        raise RuntimeError("database password is hunter2")

    async with around(broken) as client:
        response = await client.get("/", headers={"X-Request-Id": "cid-boom"})
    assert response.status_code == 500
    assert response.headers["content-type"] == "application/json; charset=utf-8"
    assert response.json() == {
        "errors": [
            {
                "message": "Unexpected error.",
                "extensions": {"code": "INTERNAL", "correlationId": "cid-boom"},
            }
        ]
    }
    assert response.headers["x-correlation-id"] == "cid-boom"
    assert "hunter2" not in response.text
    records = [json.loads(line) for line in log_output.getvalue().splitlines()]
    lines = [r for r in records if r["logger"] == "visapi.http"]
    assert len(lines) == 1  # one line per record, traceback included
    assert lines[0]["level"] == "ERROR"
    assert lines[0]["correlation_id"] == "cid-boom"
    assert lines[0]["message"] == "unhandled error in GET /"
    assert "RuntimeError: database password is hunter2" in lines[0]["exc"]
