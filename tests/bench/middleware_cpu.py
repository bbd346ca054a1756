"""`python -m tests.bench.middleware_cpu`: CPU per request of the HTTP middleware stack and of
the cost check, in-process, without a server or a load generator.

wrk on a shared machine moves by ±30 % between rounds, far more than a few microseconds of
middleware. This calls the stack directly around a stand-in app answering the 229-byte
`order(id)` body, with process CPU time, median of 5 rounds of 5,000 requests: main's stack
(no compression, no CORS) beside this one without Accept-Encoding (wrk), with it (browsers,
httpx), and with CORS configured and a listed Origin. Then the cost limit's per-request part:
a cached document's plan looked up and evaluated.

Process time is still noisy on a busy machine (±50 % at this scale); instruction counts are
not: `valgrind --tool=callgrind python -m tests.bench.middleware_cpu` per variant, minus a run
without requests. Counted that way (Dec 2026): main's stack 125k instructions a request, this
one +4k without Accept-Encoding, +15k with it, +81k with CORS and an Origin (Starlette's
CORSMiddleware), against ~4.4 M for a whole `order(id)` (make bench-instructions).
"""

from __future__ import annotations

import asyncio
import statistics
import time
from typing import Any

from graphql import parse

from graph.cost import Costs
from graph.schema import build_schema
from rest.compression import CompressionMiddleware
from rest.middleware import build_middleware

BODY = (
    b'{"data":{"order":{"id":"eca2003c-0a43-4884-b93e-cba107316211","orderId":"IL251101GB07",'
    b'"branch":"il","amount":"165.00","currency":"ILS","clientName":"Avi Cohen",'
    b'"processingDays":3,"createdAt":"2026-12-07T14:22:46.163470+00:00"}}}'
)
HEADERS = [
    (b"host", b"t"),
    (b"content-type", b"application/json"),
    (b"x-api-key", b"vk_x.y"),
    (b"accept", b"application/json"),
]
GZIP = (b"accept-encoding", b"gzip, deflate, br")
ORIGIN = "https://app.example.com"
ROUNDS, REQUESTS = 5, 5_000


async def answer(scope: Any, receive: Any, send: Any) -> None:
    headers = [(b"content-type", b"application/json"), (b"content-length", b"%d" % len(BODY))]
    await send({"type": "http.response.start", "status": 200, "headers": headers})
    await send({"type": "http.response.body", "body": BODY})


def stack(*, compression: bool = True, cors: tuple[str, ...] = ()) -> Any:
    app: Any = answer
    for cls, args, kwargs in reversed(
        build_middleware(timeout_s=30, max_body_bytes=1 << 20, cors_origins=cors)
    ):
        if cls is not CompressionMiddleware or compression:
            app = cls(app, *args, **kwargs)
    return app


async def receive() -> dict[str, Any]:
    return {"type": "http.request", "body": b"{}", "more_body": False}


async def send(message: Any) -> None:
    pass


async def per_request(app: Any, headers: list[tuple[bytes, bytes]]) -> float:
    scope = {"type": "http", "method": "POST", "path": "/graphql", "headers": headers,
             "query_string": b"", "client": ("127.0.0.1", 1), "server": ("t", 80),
             "scheme": "http", "http_version": "1.1", "root_path": ""}  # fmt: skip
    started = time.process_time()
    for _ in range(REQUESTS):
        await app(dict(scope), receive, send)
    return (time.process_time() - started) / REQUESTS * 1e6


async def middleware() -> None:
    variants = {
        "main's stack (no compression, no CORS)": (stack(compression=False), HEADERS),
        "no Accept-Encoding (wrk)": (stack(), HEADERS),
        "Accept-Encoding: gzip (browsers, httpx)": (stack(), [*HEADERS, GZIP]),
        "gzip, CORS configured, listed Origin": (
            stack(cors=(ORIGIN,)),
            [*HEADERS, GZIP, (b"origin", ORIGIN.encode())],
        ),
    }
    for app, headers in variants.values():
        await per_request(app, headers)  # warm-up, not counted
    seen: dict[str, list[float]] = {name: [] for name in variants}
    for _ in range(ROUNDS):  # interleaved, so a busy moment hits every variant alike
        for name, (app, headers) in variants.items():
            seen[name].append(await per_request(app, headers))
    for name, values in seen.items():
        print(f"{name}: {statistics.median(values):.1f} us CPU per request")


def cost_check() -> None:
    schema = build_schema()._schema
    costs = Costs(max_page_size=100)
    documents = {
        "order(id)": ("query O($id: ID!) { order(id: $id) { id orderId amount } }", {"id": "x"}),
        "orders($n) with events": (
            "query P($n: Int) { orders(first: $n) { totalCount edges { cursor node { id"
            " events { type } } } pageInfo { hasNextPage endCursor } } }",
            {"n": 20},
        ),
    }
    for name, (query, variables) in documents.items():
        document = parse(query)
        costs.plan(schema, document, None)  # made once, when the document is first seen
        started = time.process_time()
        for _ in range(100_000):
            costs.plan(schema, document, None).cost(variables)  # type: ignore[union-attr]
        spent = (time.process_time() - started) / 100_000 * 1e6
        print(f"cost check, {name}: {spent:.2f} us CPU per request")


if __name__ == "__main__":
    asyncio.run(middleware())
    cost_check()
