"""CORS for browser apps on other origins (VISAPI_CORS_ORIGINS): which origins, request headers
and methods are allowed, which response headers a page may read.

Starlette's CORSMiddleware does the protocol: it answers a preflight itself (so a preflight
needs no credentials, counts against no rate limit and never reaches GraphQL), echoes an allowed
origin with `Vary: Origin` on every answer, and gives a disallowed origin no
Access-Control-Allow-Origin, so the browser refuses it. It is placed outside the error, timeout,
body-limit and gate middleware (rest.middleware.build_middleware), so their 500, 504, 413, 401
and 429 answers carry the headers too and a page can read why it failed.

Credentials travel in headers (X-API-Key, Authorization), never in cookies: no
Access-Control-Allow-Credentials, and a page of a listed origin sends the key it holds.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

if TYPE_CHECKING:  # settings import this module: keep it light
    from starlette.middleware import Middleware

ANY = "*"
METHODS = ("GET", "POST")
# What our clients send: credentials, the JSON body, the correlation id (either name), the
# conditional GET of a cached answer, and what Apollo Client and its CSRF-prevention protocol
# add (Accept and Content-Type are safelisted already, except Content-Type: application/json).
REQUEST_HEADERS = (
    "X-API-Key",
    "Authorization",
    "Content-Type",
    "X-Correlation-Id",
    "X-Request-Id",
    "If-None-Match",
    "Apollo-Require-Preflight",
    "X-Apollo-Operation-Name",
    "Apollographql-Client-Name",
    "Apollographql-Client-Version",
)
# Response headers a page may read besides the safelisted ones (Content-Type, Cache-Control...):
# the rate limits of rest.gate, the 429's Retry-After, the correlation id to quote in a report,
# and the ETag of a cacheable GET.
EXPOSED_HEADERS = (
    "X-RateLimit-Limit",
    "X-RateLimit-Remaining",
    "X-RateLimit-Reset",
    "Retry-After",
    "X-Correlation-Id",
    "ETag",
)
DEFAULT_PORTS = {"http": 80, "https": 443}
_HOST = re.compile(r"[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*")


def parse_origins(raw: str) -> tuple[str, ...]:
    """Comma-separated origins (`https://app.example.com`, `http://127.0.0.1:5173`) or `*`
    alone, as browsers send them in `Origin`; ValueError naming the first malformed one."""
    origins: list[str] = []
    for item in (part.strip() for part in raw.split(",")):
        if item:
            origins.append(ANY if item == ANY else _origin(item))
    if ANY in origins and len(origins) > 1:
        raise ValueError("* allows every origin: it stands alone, not beside others")
    return tuple(dict.fromkeys(origins))


def _origin(item: str) -> str:
    """The origin as a browser serialises it (lower case, no default port), or ValueError."""
    try:
        parts = urlsplit(item)
        port = parts.port
    except ValueError as exc:
        raise ValueError(f"{item!r} is not an origin ({exc})") from None
    scheme, host = parts.scheme.lower(), parts.hostname or ""
    if scheme not in DEFAULT_PORTS or not item.lower().startswith(f"{scheme}://"):
        raise ValueError(f"{item!r} is not an origin: it starts with http:// or https://")
    if parts.path or parts.query or parts.fragment or item.endswith(("?", "#")):
        raise ValueError(
            f"{item!r} is not an origin: scheme, host and port only, no path (not even /)"
        )
    if parts.username is not None or parts.password is not None:
        raise ValueError(f"{item!r} is not an origin: no user or password")
    if ":" in host:  # an IPv6 literal: [::1]
        host = f"[{host}]"
    elif not _HOST.fullmatch(host):
        raise ValueError(
            f"{item!r} is not an origin: the host is letters, digits, - and dots"
            " (punycode for an international name)"
        )
    if port is not None and port != DEFAULT_PORTS[scheme]:
        return f"{scheme}://{host}:{port}"
    return f"{scheme}://{host}"


def cors_middleware(origins: Sequence[str], max_age_s: int) -> Middleware:
    """The middleware for these parsed origins (`*` alone: every origin)."""
    from starlette.middleware import Middleware
    from starlette.middleware.cors import CORSMiddleware

    return Middleware(
        CORSMiddleware,
        allow_origins=tuple(origins),
        allow_methods=METHODS,
        allow_headers=REQUEST_HEADERS,
        expose_headers=EXPOSED_HEADERS,
        allow_credentials=False,
        max_age=max_age_s,
    )
