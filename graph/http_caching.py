"""HTTP caching of /graphql answers: `Cache-Control`, the `ETag` of a GET 200 and the 304 for a
matching `If-None-Match` (graph.response_cache applies them to every answer, cached or not)."""

from __future__ import annotations

import hashlib

from starlette.requests import Request
from starlette.responses import Response

from app.responses import Lookup

NO_STORE = "no-store"


def storable(response: Response) -> bool:
    # An answer with errors is never stored. `"errors":` can only be the key (a string holding
    # it is escaped), or an alias a client chose: then the answer is not stored, which is safe.
    return response.status_code == 200 and b'"errors":' not in bytes(response.body)


def with_http_caching(request: Request, response: Response, lookup: Lookup | None) -> Response:
    if request.method != "GET" or response.status_code != 200:
        response.headers["cache-control"] = NO_STORE
        return response
    body = bytes(response.body)
    cacheable = lookup is not None and storable(response)
    control = f"private, max-age={int(lookup.max_age)}" if lookup and cacheable else NO_STORE
    etag = etag_of(body)
    if matches(request.headers.get("if-none-match"), etag):
        # RFC 9110 15.4.5: a 304 carries the validators and caching headers of the 200.
        return Response(status_code=304, headers={"etag": etag, "cache-control": control})
    response.headers["cache-control"] = control
    response.headers["etag"] = etag
    return response


def etag_of(body: bytes) -> str:
    return '"' + hashlib.blake2b(body, digest_size=16).hexdigest() + '"'


def matches(if_none_match: str | None, etag: str) -> bool:
    """If-None-Match's weak comparison (RFC 9110 13.1.2): `*`, or any listed tag, W/ or not."""
    if not if_none_match:
        return False
    for tag in if_none_match.split(","):
        tag = tag.strip()
        if tag == "*" or tag.removeprefix("W/") == etag:
            return True
    return False


def hit_answer(
    method: str, media: str, if_none_match: str | None, max_age: float, body: bytes
) -> tuple[int, dict[str, str], bytes]:
    """A cached answer's status, headers and body: `no-store` for a POST; for a GET, private
    caching for `max_age` seconds with an ETag, and 304 when `If-None-Match` matches it."""
    if method != "GET":
        return 200, {"cache-control": NO_STORE, "content-type": f"{media}; charset=utf-8"}, body
    control = f"private, max-age={int(max_age)}"
    etag = etag_of(body)
    if matches(if_none_match, etag):
        return 304, {"etag": etag, "cache-control": control}, b""
    headers = {"cache-control": control, "etag": etag, "content-type": f"{media}; charset=utf-8"}
    return 200, headers, body
