"""Pure ASGI middleware: security headers, correlation ids, a catch-all for 500s, request
timeouts, body size caps."""

from __future__ import annotations

import asyncio
import itertools
import logging
import re
import secrets
from collections.abc import Sequence
from typing import Any

import orjson
from starlette.middleware import Middleware
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.context import correlation_id
from app.errors import Unavailable
from rest.compression import CompressionMiddleware
from rest.cors import cors_middleware

log = logging.getLogger("visapi.http")

CORRELATION_HEADERS = (b"x-correlation-id", b"x-request-id")  # first one present wins
_SANE_ID = re.compile(rb"[A-Za-z0-9._:-]{1,64}")


def build_middleware(
    *,
    timeout_s: float,
    max_body_bytes: int,
    cors_origins: Sequence[str] = (),
    cors_max_age_s: int = 600,
) -> list[Middleware]:
    """The stack, outermost first: every answer below it (even a 500) gets the correlation id.

    CORS (only with origins configured) sits above everything that may answer an error, so a
    browser app can read its 401, 413, 429, 500 or 504; it answers preflights itself, before the
    gate. Compression comes next: every answer below it, errors included, may be compressed.
    """
    return [
        Middleware(SecurityHeadersMiddleware),
        *([cors_middleware(cors_origins, cors_max_age_s)] if cors_origins else []),
        Middleware(CompressionMiddleware),
        Middleware(CorrelationIdMiddleware),
        Middleware(ErrorMiddleware),
        Middleware(TimeoutMiddleware, seconds=timeout_s),
        Middleware(BodyLimitMiddleware, max_bytes=max_body_bytes),
    ]


# Every answer, in every mode: the API serves JSON and one page (GraphiQL), whose scripts and
# styles are files of its own (visapi/static/graphiql), so nothing inline or foreign is allowed.
# GraphiQL fetches /graphql (connect-src) and uses data: URIs for its icons and fonts.
CONTENT_SECURITY_POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "font-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'none'; "
    "frame-ancestors 'none'"
)
SECURITY_HEADERS = (
    (b"content-security-policy", CONTENT_SECURITY_POLICY.encode()),
    (b"x-frame-options", b"DENY"),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
)


def error_body(message: str, code: str, **extensions: Any) -> bytes:
    """A GraphQL-shaped error document, the one error format of every endpoint."""
    return orjson.dumps(
        {"errors": [{"message": message, "extensions": {"code": code, **extensions}}]}
    )


async def send_error(
    send: Send,
    status: int,
    message: str,
    code: str,
    scope: Scope,
    headers: Sequence[tuple[bytes, bytes]] = (),
) -> None:
    cid = (scope.get("state") or {}).get("correlation_id")
    body = error_body(message, code, **({"correlationId": cid} if cid else {}))
    headers = [
        (b"content-type", b"application/json; charset=utf-8"),
        (b"content-length", str(len(body)).encode()),
        *headers,
    ]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


class SecurityHeadersMiddleware:
    """Outermost of the stack, so its headers reach every answer, a 500 or a 504 included."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_secured(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", ()))
                present = {name.lower() for name, _ in headers}
                headers += [(k, v) for k, v in SECURITY_HEADERS if k not in present]
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, send_secured)


class CorrelationIdMiddleware:
    """Take a sane `X-Correlation-Id`/`X-Request-Id` or make one; expose it and echo it back."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        cid = sane_correlation_id(dict(scope["headers"])) or new_correlation_id()
        scope.setdefault("state", {})["correlation_id"] = cid
        echoed = (b"x-correlation-id", cid.encode())

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                message = {**message, "headers": [*message.get("headers", ()), echoed]}
            await send(message)

        token = correlation_id.set(cid)
        try:
            await self.app(scope, receive, send_with_id)
        finally:
            correlation_id.reset(token)


# A made id: 16 random hex digits per process, then a counter (32 hex digits, as a UUID's hex):
# unique across processes and restarts without uuid4's cost on every request.
_PROCESS_ID = secrets.token_hex(8)
_made = itertools.count(1)


def new_correlation_id() -> str:
    return f"{_PROCESS_ID}{next(_made):016x}"


def sane_correlation_id(headers: dict[bytes, bytes]) -> str | None:
    """The request's own id (`X-Correlation-Id`, else `X-Request-Id`) when it is sane."""
    for name in CORRELATION_HEADERS:
        value = headers.get(name)
        if value is not None:
            # A malformed id is replaced, not trusted: it lands in logs and response headers.
            return value.decode("ascii") if _SANE_ID.fullmatch(value) else None
    return None


class _Started:
    """A send wrapper remembering whether the response has begun (then no error can replace it)."""

    def __init__(self, send: Send) -> None:
        self.send = send
        self.started = False

    async def __call__(self, message: Message) -> None:
        if message["type"] == "http.response.start":
            self.started = True
        await self.send(message)


class ErrorMiddleware:
    """Turn an unhandled exception into a logged traceback and a 500 with the correlation id."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        tracked = _Started(send)
        try:
            await self.app(scope, receive, tracked)
        except Unavailable as exc:
            # A dependency away for a while (the database restarting): retry later, not a bug.
            log.warning("%s %s: %s (%r)", scope["method"], scope["path"], exc, exc.__cause__)
            if tracked.started:
                raise
            await send_error(send, 503, exc.message, exc.code, scope)
        except Exception:
            log.exception("unhandled error in %s %s", scope["method"], scope["path"])
            if tracked.started:
                raise  # half a response went out: let the server drop the connection
            await send_error(send, 500, "Unexpected error.", "INTERNAL", scope)


class TimeoutMiddleware:
    """Answer 504 when the app has not started its response within `seconds` (then it may go on)."""

    def __init__(self, app: ASGIApp, *, seconds: float) -> None:
        self.app = app
        self.seconds = seconds

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def send_untimed(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                deadline.reschedule(None)  # a streaming body may take longer than the answer
            await send(message)

        try:
            async with asyncio.timeout(self.seconds) as deadline:
                await self.app(scope, receive, send_untimed)
        except TimeoutError:
            if started or not deadline.expired():
                raise  # not ours: a timeout raised inside the app is an error like any other
            log.warning(
                "request timed out after %ss: %s %s", self.seconds, scope["method"], scope["path"]
            )
            await send_error(send, 504, "The request took too long.", "TIMEOUT", scope)


class BodyTooLarge(Exception):
    """Raised from `receive` when a streamed (chunked) body passes the cap."""


class BodyLimitMiddleware:
    """413 for a body over `max_bytes`: at once from Content-Length, or while counting chunks."""

    def __init__(self, app: ASGIApp, *, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        length = dict(scope["headers"]).get(b"content-length")
        if length is not None and length.isdigit() and int(length) > self.max_bytes:
            await self._too_large(send, scope)
            return
        received = 0

        async def counted() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    raise BodyTooLarge
            return message

        tracked = _Started(send)
        try:
            await self.app(scope, counted, tracked)
        except BodyTooLarge:
            if tracked.started:
                raise
            await self._too_large(send, scope)

    async def _too_large(self, send: Send, scope: Scope) -> None:
        message = f"The request body is larger than {self.max_bytes} bytes."
        await send_error(send, 413, message, "PAYLOAD_TOO_LARGE", scope)
