"""The gate in front of every route but health, version and metrics: who is calling (API key or
bearer JWT), failed-authentication throttling per IP and key prefix (app.auth.lockout), and rate
limits per key and per IP."""

from __future__ import annotations

import logging
import math
from collections.abc import Callable

from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.auth.access import Access
from app.auth.admit import Admitted
from app.auth.credentials import credential_of
from app.auth.lockout import LockedOut
from app.auth.ports import Verdict
from app.errors import Unauthenticated
from app.responses import PREFETCHED, Probe
from domain.auth.permissions import Permission, Principal
from rest.middleware import error_body, send_error
from rest.proxies import client_address, parse_networks

log = logging.getLogger("visapi.access")

# Probes and scrapers must answer even for a client over its limit, and carry no credentials.
# Meta's webhook carries no API key: its HMAC signature is its authentication (checked by the
# route), and its bursts of statuses must not count against the anonymous per-IP limit.
EXEMPT = frozenset(
    {
        "/api/v1/healthz",
        "/api/v1/readyz",
        "/api/v1/version",
        "/metrics",
        "/api/v1/webhooks/whatsapp",
    }
)
CHALLENGE = (b"www-authenticate", b'Bearer realm="visapi"')
JSON = "application/json; charset=utf-8"
FAILED = "Too many failed authentications."
# Where rest.cached_answers leaves an admission it made (a cached answer it did not hold, or a
# caller over its limit): the gate goes on from it instead of admitting again.
ADMITTED = "admitted"


def limit_headers(verdict: Verdict | None) -> list[tuple[bytes, bytes]]:
    if verdict is None:  # the limiter is down: nothing true to say
        return []
    return [
        (b"x-ratelimit-limit", str(verdict.limit).encode()),
        (b"x-ratelimit-remaining", str(verdict.remaining).encode()),
        (b"x-ratelimit-reset", reset_seconds(verdict)),
    ]


def reset_seconds(verdict: Verdict) -> bytes:
    """Whole seconds until the window restarts, rounded up and at least 1: a client told 0
    while nothing remains would retry at once, into the same window."""
    return str(max(1, math.ceil(verdict.reset_s))).encode()


class GateMiddleware:
    """Puts the caller (a Principal, or None when anonymous) in `scope["state"]["principal"]`.

    Bad credentials answer 401 on every route, whatever it selects: a client sending a wrong key
    should hear so rather than be served as anonymous. Whether anonymous callers may go on is
    each route's decision (GraphQL: per field, graph.permissions; REST: `require`).
    """

    def __init__(
        self,
        app: ASGIApp,
        *,
        access: Access,
        window_s: float,
        per_key: int,
        per_ip: int,
        trusted_proxies: str,
        probe: Callable[[Scope], Probe | None] | None = None,
    ) -> None:
        self.app = app
        self._access = access
        # The response cache's probe of a request (graph.response_cache): its answer is looked
        # up in the admission's round trip, so a cached answer costs one call to Redis.
        self._probe = probe
        self._window = window_s
        self._per_key = per_key
        self._per_ip = per_ip
        self._trusted = parse_networks(trusted_proxies)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "websocket":
            await self._upgrade(scope, receive, send)
            return
        if scope["type"] != "http" or scope["path"] in EXEMPT:
            await self.app(scope, receive, send)
            return
        access = self._access
        ip = client_address(scope, self._trusted)
        try:
            principal, verdict = await self._authenticate(access, scope, ip)
        except LockedOut as locked:
            await self._too_many(send, scope, locked.verdict, FAILED)
            return
        except Unauthenticated as exc:
            log.info("authentication failed from %s: %s", ip, exc.message)
            await send_error(send, 401, exc.message, "UNAUTHENTICATED", scope, [CHALLENGE])
            return
        if principal is None:
            verdict = await access.limiter.hit(f"ip:{ip}", self._per_ip, self._window)
        if verdict is not None and not verdict.allowed:
            await self._too_many(send, scope, verdict, "Rate limit exceeded.")
            return
        scope.setdefault("state", {})["principal"] = principal
        extra = limit_headers(verdict)

        async def send_with_limits(message: Message) -> None:
            if extra and message["type"] == "http.response.start":
                message = {**message, "headers": [*message.get("headers", ()), *extra]}
            await send(message)

        await self.app(scope, receive, send_with_limits)

    async def _upgrade(self, scope: Scope, receive: Receive, send: Send) -> None:
        """A WebSocket handshake: its credentials come later (graph.live_socket authenticates
        `connection_init`), but the handshake counts against the caller's per-IP limit, and
        the caller's address (behind trusted proxies) is kept for the lockout."""
        ip = client_address(scope, self._trusted)
        scope.setdefault("state", {})["client_ip"] = ip
        verdict = await self._access.limiter.hit(f"ip:{ip}", self._per_ip, self._window)
        if verdict is not None and not verdict.allowed:
            # Closing before accepting answers the handshake with HTTP 403.
            await send({"type": "websocket.close", "code": 1008, "reason": "Rate limit exceeded."})
            return
        await self.app(scope, receive, send)

    async def _authenticate(
        self, access: Access, scope: Scope, ip: str
    ) -> tuple[Principal | None, Verdict | None]:
        """The caller (None: no credentials) and its rate-limit verdict; Unauthenticated (its
        failure counted) or LockedOut (nothing checked)."""
        try:
            credential = credential_of(dict(scope["headers"]))
        except Unauthenticated:
            await access.lockout.failed(ip, None)
            raise
        if credential is None:
            return None, None
        admitted: Admitted | None = (scope.get("state") or {}).get(ADMITTED)
        if admitted is None and access.admit is not None:  # one call when the check is cached
            probe = self._probe(scope) if self._probe is not None else None
            try:
                admitted = await access.admit(credential, probe)
            except Unauthenticated:  # a cached check of a key that has expired since
                await access.lockout.failed(ip, credential)
                raise
            if admitted is not None and probe is not None and admitted.answer is not None:
                scope.setdefault("state", {})[PREFETCHED] = (probe, admitted.answer)
        if admitted is not None:
            return admitted.principal, admitted.verdict
        principal = await access.lockout.authenticate(credential, ip, access.authenticate)
        bucket = f"{principal.kind.value}:{principal.id}"
        return principal, await access.limiter.hit(bucket, self._per_key, self._window)

    async def _too_many(self, send: Send, scope: Scope, verdict: Verdict, message: str) -> None:
        retry = (b"retry-after", reset_seconds(verdict))
        await send_error(
            send, 429, message, "RATE_LIMITED", scope, [*limit_headers(verdict), retry]
        )


def require(request: Request, permission: Permission) -> Response | None:
    """For REST routes: None when the caller holds `permission`, else the 401 or 403 answer."""
    principal: Principal | None = (request.scope.get("state") or {}).get("principal")
    if principal is None:
        body = error_body("Authentication required.", "UNAUTHENTICATED")
        challenge = {CHALLENGE[0].decode(): CHALLENGE[1].decode()}
        return Response(body, 401, challenge, media_type=JSON)
    if not principal.may(permission):
        message = f"Missing permission {permission.value}."
        body = error_body(message, "FORBIDDEN", permission=permission.value)
        return Response(body, 403, media_type=JSON)
    return None
