"""gzip for answers worth it: bodies of 1 KB and more when the client accepts gzip, and the
vendored GraphiQL files compressed once per process instead of on every page load.

Small answers (an `order(id)`, most errors) go out as they are: below ~1 KB gzip saves a few
hundred bytes at best and costs a compressor per request. Event streams are never compressed
(each event must reach the client when it is sent), nor bodies that carry a Content-Encoding
already. A client that does not accept gzip (`gzip;q=0`, or no Accept-Encoding at all) skips
the middleware entirely.
"""

from __future__ import annotations

import gzip
import os
from functools import lru_cache

import anyio.to_thread
from starlette.datastructures import MutableHeaders
from starlette.middleware.gzip import (
    DEFAULT_EXCLUDED_CONTENT_TYPES,
    GZipMiddleware,
    GZipResponder,
)
from starlette.responses import FileResponse, Response
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Message, Receive, Scope, Send

MINIMUM_BYTES = 1024
# zlib's default level: the 107 KB introspection answer goes out as 10.4 KB (level 9: 10.2 KB,
# for about half as much CPU again; level 1: 13.5 KB); a page of 20 orders, 6 KB, as 0.5 KB.
LEVEL = 6
# Compressed once and kept: the best ratio is worth its CPU (~60 ms for GraphiQL's 1.5 MB).
STATIC_LEVEL = 9
COMPRESSIBLE = ("text/", "application/javascript", "application/json", "image/svg+xml")


@lru_cache(maxsize=64)
def accepts_gzip(accept_encoding: str) -> bool:
    """Whether `Accept-Encoding` allows gzip (RFC 9110 12.5.3: `gzip`, `x-gzip` or `*` with a
    q-value above 0; an explicit `gzip;q=0` refuses it even beside `*`)."""
    named: float | None = None
    wildcard: float | None = None
    for part in accept_encoding.lower().split(","):
        coding, _, params = part.partition(";")
        coding, q = coding.strip(), 1.0
        for param in params.split(";"):
            key, _, value = param.strip().partition("=")
            if key.strip() == "q":
                try:
                    q = float(value.strip())
                except ValueError:
                    q = 0.0
        if coding in ("gzip", "x-gzip"):
            named = q
        elif coding == "*":
            wildcard = q
    chosen = named if named is not None else wildcard
    return chosen is not None and chosen > 0


def _accepts(scope: Scope) -> bool:
    for name, value in scope["headers"]:
        if name == b"accept-encoding":
            return accepts_gzip(value.decode("latin-1"))
    return False


class CompressionMiddleware(GZipMiddleware):
    """Starlette's gzip, with Accept-Encoding read by its q-values, no work at all for clients
    that do not accept gzip, and a strong ETag made weak on gzipped bodies (RFC 9110 8.8.3: a
    strong validator names one exact sequence of bytes; If-None-Match compares weakly)."""

    def __init__(self, app: ASGIApp) -> None:
        super().__init__(
            app,
            minimum_size=MINIMUM_BYTES,
            compresslevel=LEVEL,
            exclude_content_types=DEFAULT_EXCLUDED_CONTENT_TYPES,  # text/event-stream among them
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not _accepts(scope):
            await self.app(scope, receive, send)
            return
        responder = GZipResponder(
            self.app,
            self.minimum_size,
            compresslevel=self.compresslevel,
            thread_minimum_size=self.thread_minimum_size,
            exclude_content_types=self.exclude_content_types,
        )
        await responder(scope, receive, _weak_etag_when_compressed(send))


def _weak_etag_when_compressed(send: Send) -> Send:
    async def weakened(message: Message) -> None:
        if message["type"] == "http.response.start":
            headers = MutableHeaders(raw=message.setdefault("headers", []))
            etag = headers.get("etag")
            if etag and etag.startswith('"') and headers.get("content-encoding") == "gzip":
                headers["etag"] = f"W/{etag}"
        await send(message)

    return weakened


class PrecompressedStaticFiles(StaticFiles):
    """StaticFiles whose text files go out gzipped, from bytes compressed once per process (on
    first request, off the event loop) and kept with the file's ETag made weak."""

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self._compressed: dict[tuple[str, str], bytes] = {}

    async def get_response(self, path: str, scope: Scope) -> Response:
        response = await super().get_response(path, scope)
        if (
            not isinstance(response, FileResponse)
            or response.status_code != 200
            or not _accepts(scope)
            or not (response.media_type or "").startswith(COMPRESSIBLE)
            or response.stat_result is None
            or response.stat_result.st_size < MINIMUM_BYTES
        ):
            return response
        etag = response.headers["etag"]
        key = (os.fspath(response.path), etag)
        body = self._compressed.get(key)
        if body is None:
            body = await anyio.to_thread.run_sync(_gzip_file, key[0])
            self._compressed[key] = body  # a race compresses twice, harmlessly
        headers = {k: v for k, v in response.headers.items() if k != "content-length"}
        headers["content-encoding"] = "gzip"
        headers["vary"] = "Accept-Encoding"
        headers["etag"] = f"W/{etag}"
        return Response(body, headers=headers)


def _gzip_file(path: str) -> bytes:
    with open(path, "rb") as file:
        # mtime=0: the same bytes on every process, whenever it compressed them.
        return gzip.compress(file.read(), compresslevel=STATIC_LEVEL, mtime=0)
