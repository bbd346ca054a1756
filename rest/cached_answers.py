"""A cached GraphQL answer sent from the edge: `GET /graphql` by persisted document, whose answer
the response cache holds, answered in front of the whole stack (visapi.asgi.Api runs this before
Starlette's own error middleware).

The gate already reads such an answer in the admission's one Redis call (cached key check,
rate-limit hit, response-cache lookup). What was left was the stack around it: eight ASGI
layers, Starlette's router, a Request and a Response, each wrapping `send`, about a third of the
CPU of a hit (`BENCH_PROFILE=1 make bench`, row order_persisted_hit). Here that request is
admitted first; a hit goes out with what each layer would have added (security headers, the
correlation id, rate-limit headers, gzip from 1 KB, HTTP metrics), anything else continues down
the stack carrying the admission, so nothing is counted twice (rest.gate reads it).

Requests with an `Origin` take the stack (CORS decides their headers), and so does anything the
gate must judge itself: no credentials, bad ones, a check not cached, the limiter down. An error
here before anything was sent hands the request to the stack too, with its admission.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any

from starlette.types import ASGIApp, Receive, Scope, Send

from app.auth.access import Access
from app.auth.admit import Admitted
from app.auth.credentials import credential_of
from app.errors import Unauthenticated
from app.metrics import Metrics
from app.responses import PREFETCHED, Probe
from domain.auth.permissions import Principal
from rest.compression import Gzip, accepts_gzip
from rest.gate import ADMITTED, limit_headers
from rest.middleware import SECURITY_HEADERS, new_correlation_id, sane_correlation_id

log = logging.getLogger("visapi.http")

Headers = list[tuple[bytes, bytes]]
# The hit's own answer: status, headers (content type, caching) and body, from the response
# cache (graph.response_cache.Responses.answer_hit), counted there as a served operation.
HitAnswer = Callable[[Scope, Probe, Principal, bytes, str, float], tuple[int, Headers, bytes]]


class CachedAnswers:
    def __init__(
        self,
        app: ASGIApp,
        *,
        access: Access,
        probe: Callable[[Scope], Probe | None],
        answer_hit: HitAnswer,
        metrics: Metrics,
        path: str = "/graphql",
        cors: bool = False,
    ) -> None:
        self.app = app
        # With CORS configured, the stack's CORS middleware adds `Vary: Origin` to an answer
        # to a request without an Origin too: so does the edge.
        self._vary = [(b"vary", b"Origin")] if cors else []
        self._admit = access.admit
        self._probe = probe
        self._answer_hit = answer_hit
        self._metrics = metrics
        self._path = path

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            self._admit is None
            or scope["type"] != "http"
            or scope["method"] != "GET"
            or scope["path"] != self._path
        ):
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        headers = dict(scope["headers"])
        admitted: Admitted | None = None
        try:
            admitted = await self._admitted(scope, headers)
            body, generations = (None, "") if admitted is None else admitted.answer or (None, "")
            if admitted is None or body is None:
                answer = None
            else:
                probe: Probe = scope["state"][PREFETCHED][0]
                answer = self._answer_hit(
                    scope, probe, admitted.principal, body, generations, started
                )
        except Exception:
            # Nothing sent yet: the stack answers (its error middleware, if it fails too),
            # going on from an admission already made.
            log.exception("cached answer failed; the request takes the stack")
            answer = None
        if admitted is None or answer is None:
            await self.app(scope, receive, send)
            return
        status, extra, body = answer
        await self._send(send, headers, admitted, status, extra, body)
        self._metrics.http_request("GET", self._path, status, time.perf_counter() - started)

    async def _admitted(self, scope: Scope, headers: dict[bytes, bytes]) -> Admitted | None:
        """The admission, left in the scope for the gate; None: the gate decides alone."""
        if b"origin" in headers:
            return None
        try:
            credential = credential_of(headers)
        except Unauthenticated:
            return None  # the gate answers 401 and counts the failure
        probe = self._probe(scope) if credential is not None else None
        if credential is None or probe is None:
            return None
        admit: Callable[..., Awaitable[Admitted | None]] = self._admit  # type: ignore[assignment]
        try:
            admitted = await admit(credential, probe)
        except Unauthenticated:
            return None  # an expired cached check: the gate does it again and counts it
        if admitted is None:
            return None
        state = scope.setdefault("state", {})
        state[ADMITTED] = admitted
        if admitted.answer is not None:
            state[PREFETCHED] = (probe, admitted.answer)
        verdict = admitted.verdict
        if verdict is not None and not verdict.allowed:
            return None  # the gate answers the 429 from the handed admission
        return admitted

    async def _send(
        self,
        send: Send,
        request: dict[bytes, bytes],
        admitted: Admitted,
        status: int,
        headers: Headers,
        body: bytes,
    ) -> None:
        cid = sane_correlation_id(request) or new_correlation_id()
        # As Starlette's Response: no length on a 304 (RFC 9110 8.6).
        length = [] if status == 304 else [(b"content-length", str(len(body)).encode())]
        headers = [
            *length,
            *headers,
            *limit_headers(admitted.verdict),
            *self._vary,
            (b"x-correlation-id", cid.encode()),
            *SECURITY_HEADERS,
        ]
        accept = request.get(b"accept-encoding")
        if accept is not None and accepts_gzip(accept.decode("latin-1")):
            send = Gzip(send)  # the compression middleware's own send: from 1 KB
        start: dict[str, Any] = {"type": "http.response.start", "status": status}
        start["headers"] = headers
        await send(start)
        await send({"type": "http.response.body", "body": body})
