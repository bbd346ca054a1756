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
import zlib
from functools import lru_cache
from typing import Any

import anyio.to_thread
from starlette.datastructures import MutableHeaders
from starlette.middleware.gzip import DEFAULT_EXCLUDED_CONTENT_TYPES
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
# Starlette's list: images, audio, video, archives, fonts, gRPC, and text/event-stream.
EXCLUDED = frozenset(t.encode() for t in DEFAULT_EXCLUDED_CONTENT_TYPES)
GZIP_WBITS = 16 + zlib.MAX_WBITS  # a gzip header and trailer around the deflate stream
# Bodies this large are compressed on a worker thread, not on the event loop (Starlette's 128 KiB).
THREAD_BYTES = 128 * 1024


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


class CompressionMiddleware:
    """gzip for clients accepting it (Accept-Encoding read by its q-values), nothing at all for
    the others.

    Starlette's GZipMiddleware parses the answer's headers before it knows the body's size, so
    every small answer paid for header handling it did not need (~15 us of CPU around the
    229-byte `order(id)` answer, timed on a busy machine). Here the start is held until the
    first body: a small complete body goes out at once, untouched; the headers are read only for
    a body worth compressing (callgrind: +15k instructions a request over no middleware, of the
    ~4.4 M an `order(id)` costs; tests/bench/middleware_cpu.py). A strong
    ETag becomes weak on a gzipped body (RFC 9110 8.8.3: a strong validator names one exact
    sequence of bytes; If-None-Match compares weakly). A streamed body is compressed chunk by
    chunk, each flushed, so the client gets every chunk when it is sent.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not _accepts(scope):
            await self.app(scope, receive, send)
            return
        await self.app(scope, receive, Gzip(send))


class Gzip:
    """The send of one response: holds its start, then compresses or steps aside."""

    __slots__ = ("compressor", "send", "start")

    def __init__(self, send: Send) -> None:
        self.send = send
        self.start: Message | None = None
        self.compressor: Any = None  # zlib's compress object, once compressing

    async def __call__(self, message: Message) -> None:
        kind = message["type"]
        if kind == "http.response.start":
            self.start = message
            return
        start, self.start = self.start, None
        if kind != "http.response.body":  # pathsend, trailers, early hints
            if start is not None:
                await self.send(start)
            await self.send(message)
            return
        body: bytes = message.get("body", b"")
        more: bool = message.get("more_body", False)
        if start is not None:
            if (len(body) < MINIMUM_BYTES and not more) or not _compressible(start):
                await self.send(start)
                await self.send(message)
                return
            self.compressor = zlib.compressobj(LEVEL, zlib.DEFLATED, GZIP_WBITS)
            body = await self._compress(body, more)
            await self.send({**start, "headers": _encoded(start, None if more else len(body))})
            await self.send({**message, "body": body})
            return
        if self.compressor is not None:
            message = {**message, "body": await self._compress(body, more)}
        await self.send(message)

    async def _compress(self, body: bytes, more: bool) -> bytes:
        if len(body) >= THREAD_BYTES:  # a large body would hold the event loop for milliseconds
            return await anyio.to_thread.run_sync(self._deflate, body, more)
        return self._deflate(body, more)

    def _deflate(self, body: bytes, more: bool) -> bytes:
        flush = zlib.Z_SYNC_FLUSH if more else zlib.Z_FINISH
        return bytes(self.compressor.compress(body) + self.compressor.flush(flush))


def _compressible(start: Message) -> bool:
    """Not a partial or bodiless answer, not encoded already, not an excluded media type."""
    if start["status"] in (204, 206, 304):
        return False
    media = b""
    for name, value in start.get("headers", ()):
        if name == b"content-encoding":
            return False
        if name == b"content-type":
            media = value.partition(b";")[0].strip().lower()
    return media not in EXCLUDED and media.partition(b"/")[0] + b"/*" not in EXCLUDED


def _encoded(start: Message, length: int | None) -> list[tuple[bytes, bytes]]:
    headers = MutableHeaders(raw=list(start.get("headers", ())))
    headers["content-encoding"] = "gzip"
    headers.add_vary_header("Accept-Encoding")
    if length is None or start.get("trailers", False):
        del headers["content-length"]
    else:
        headers["content-length"] = str(length)
    etag = headers.get("etag")
    if etag and etag.startswith('"'):
        headers["etag"] = f"W/{etag}"
    return headers.raw


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
