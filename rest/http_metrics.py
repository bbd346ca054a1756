"""HTTP metrics: a pure ASGI middleware timing every answer by route template and status class,
and the /metrics endpoint that exposes them (exempt from the gate, like health)."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from typing import Protocol

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Match
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.metrics import Metrics

METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
# Label of a path no route knows: raw paths would make one series per scanner probe.
UNMATCHED = "unmatched"
access = logging.getLogger("visapi.http")


class HttpMetricsMiddleware:
    """Outermost: it sees the final status, the 500s of ErrorMiddleware and the 401/429 of the
    gate included. The route is the template the router matched (`scope["route"]`); for an
    answer given before routing (the gate's), the routes are matched here."""

    def __init__(self, app: ASGIApp, *, metrics: Metrics, routes: Sequence[BaseRoute]) -> None:
        self.app = app
        self.metrics = metrics
        self.routes = routes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        status = 500  # what the server answers when the app raises before responding

        async def send_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        started = time.perf_counter()
        try:
            await self.app(scope, receive, send_status)
        finally:
            method = scope["method"] if scope["method"] in METHODS else "OTHER"
            seconds = time.perf_counter() - started
            route = self._route(scope)
            self.metrics.http_request(method, route, status, seconds)
            if access.isEnabledFor(logging.INFO):
                _access_line(scope, method, route, status, seconds)

    def _route(self, scope: Scope) -> str:
        route = scope.get("route")
        if route is None:
            route = next((r for r in self.routes if r.matches(scope)[0] is not Match.NONE), None)
        path = getattr(route, "path", None)
        return path if isinstance(path, str) else UNMATCHED


def _access_line(scope: Scope, method: str, route: str, status: int, seconds: float) -> None:
    """One JSON line per answer: what and how it went, who asked (a key's prefix or a user's
    id), never the path's query, a body or a document's text (personal data)."""
    state = scope.get("state") or {}
    principal = state.get("principal")
    access.info(
        "%s %s %s",
        method,
        route,
        status,
        extra={
            "method": method,
            "route": route,
            "status": status,
            "duration_ms": round(seconds * 1000, 2),
            "operation": state.get("operation"),
            "caller": getattr(principal, "actor", None),
            "correlation_id": state.get("correlation_id"),
        },
    )


class Exposition(Protocol):
    """The metrics registry as Prometheus text: the body and its media type."""

    def render(self) -> tuple[bytes, str]: ...


def metrics_endpoint(metrics: Exposition) -> Callable[[Request], Awaitable[Response]]:
    async def scrape(request: Request) -> Response:
        # Off the event loop: merging per-process files and asking Redis for queue lengths block.
        body, media_type = await asyncio.to_thread(metrics.render)
        return Response(body, media_type=media_type)

    return scrape
