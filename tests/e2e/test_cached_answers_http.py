"""A cached GET answer sent in front of the middleware stack (rest.cached_answers): what the
stack would have sent, counted once, and every other request handed down with its admission."""

from __future__ import annotations

import gzip
import json
from dataclasses import replace

import httpx
import pytest

from rest.cached_answers import CachedAnswers
from tests.auth import drop_namespace, key, running
from tests.scrape import create_order, order_body, scrape
from visapi.asgi import Api, create_app
from visapi.settings import Settings

FIELDS = "id orderId branch orderStatus amount currency clientName clientEmail createdAt"
ORDER = f"query Order($id: ID!) {{ order(id: $id) {{ {FIELDS} }} }}"
# Eight copies of the order under aliases: an answer over 1 KB, which is gzipped.
LARGE = (
    "query Large($id: ID!) { "
    + " ".join(f"o{n}: order(id: $id) {{ {FIELDS} }}" for n in range(8))
    + " }"
)
# Added by the edge or the stack on every answer; their values differ from one to the next.
PER_REQUEST = {"x-correlation-id", "x-ratelimit-remaining", "x-ratelimit-reset"}
HTTP = "visapi_http_request_duration_seconds_count"


def params(query: str, order_id: str) -> dict[str, str]:
    return {"query": query, "variables": json.dumps({"id": order_id})}


@pytest.mark.parametrize("cors", ["", "https://app.example"])
async def test_a_hit_at_the_edge_answers_as_the_stack_does(
    app_settings: Settings, cors: str
) -> None:
    async with running(replace(app_settings, cors_origins=cors)) as (container, client):
        headers = {"X-API-Key": await key(container, "orders:read", "orders:write")}
        order_id = await create_order(client, headers, order_body())
        query = params(ORDER, order_id)
        miss = await client.get("/graphql", params=query, headers=headers)
        edge = await client.get("/graphql", params=query, headers=headers)
        # An Origin takes the stack (CORS decides its headers; an unlisted origin gets none).
        stack = await client.get(
            "/graphql", params=query, headers={**headers, "Origin": "https://other.example"}
        )
        assert miss.status_code == edge.status_code == stack.status_code == 200
        assert miss.content == edge.content == stack.content
        assert "clientName" in edge.json()["data"]["order"]
        # The miss took the stack without an Origin: the same headers, `Vary: Origin` included
        # when CORS is configured.
        assert sorted(miss.headers.keys()) == sorted(edge.headers.keys())
        same = {k: v for k, v in miss.headers.items() if k not in PER_REQUEST}
        assert same == {k: v for k, v in edge.headers.items() if k not in PER_REQUEST}
        assert ("vary" in edge.headers) == bool(cors)
        # An Origin the stack judged: what CORS adds, and nothing else differs.
        cors_only = {"access-control-expose-headers"} if cors else set()
        assert set(stack.headers.keys()) - cors_only == set(edge.headers.keys())
        assert edge.headers["content-security-policy"].startswith("default-src 'none'")
        assert edge.headers["etag"] == stack.headers["etag"]

        mine = await client.get(
            "/graphql", params=query, headers={**headers, "X-Correlation-Id": "ticket-42"}
        )
        assert mine.headers["x-correlation-id"] == "ticket-42"
        revalidated = await client.get(
            "/graphql", params=query, headers={**headers, "If-None-Match": edge.headers["etag"]}
        )
        assert (revalidated.status_code, revalidated.content) == (304, b"")
        assert "content-length" not in revalidated.headers
        assert revalidated.headers["x-ratelimit-limit"] == edge.headers["x-ratelimit-limit"]

        samples = await scrape(client)
        gets = samples.get_value(HTTP, method="GET", route="/graphql", status="2xx")
        assert gets == 4  # miss, edge, stack, mine (the 304 is a 3xx)
        assert samples.get_value(HTTP, method="GET", route="/graphql", status="3xx") == 1
        hits = "visapi_response_cache_lookups_total"
        assert samples.get_value(hits, document="other", result="hit") == 4
        assert samples.get_value(hits, document="other", result="miss") == 1


async def test_a_large_hit_is_gzipped_for_a_client_that_accepts_it(
    app_settings: Settings,
) -> None:
    async with running(app_settings) as (container, client):
        headers = {"X-API-Key": await key(container, "orders:read", "orders:write")}
        order_id = await create_order(client, headers, order_body())
        query = params(LARGE, order_id)
        plain = await client.get(
            "/graphql", params=query, headers={**headers, "Accept-Encoding": "identity"}
        )
        assert len(plain.content) >= 1024
        raw = {**headers, "Accept-Encoding": "gzip"}
        async with client.stream("GET", "/graphql", params=query, headers=raw) as zipped:
            body = b"".join([chunk async for chunk in zipped.aiter_raw()])
        assert zipped.headers["content-encoding"] == "gzip"
        assert zipped.headers["etag"] == f"W/{plain.headers['etag']}"
        assert "Accept-Encoding" in zipped.headers["vary"]
        assert int(zipped.headers["content-length"]) == len(body) < len(plain.content)
        assert gzip.decompress(body) == plain.content


async def test_every_request_counts_once_against_the_limit(app_settings: Settings) -> None:
    """Hits at the edge, misses handed to the stack with their admission, and the stack's own
    admission (an Origin): one hit on the limit each, and the 429 from a handed admission."""
    settings = replace(app_settings, rate_limit_per_key=6)
    async with running(settings) as (container, client):
        headers = {"X-API-Key": await key(container, "orders:read", "orders:write")}
        order_id = await create_order(client, headers, order_body())  # the first request
        query = params(ORDER, order_id)
        origin = {**headers, "Origin": "https://app.example"}
        remaining = []
        for sent in (headers, headers, origin, headers, headers):
            answer = await client.get("/graphql", params=query, headers=sent)
            assert answer.status_code == 200, answer.text
            remaining.append(int(answer.headers["x-ratelimit-remaining"]))
        assert remaining == [4, 3, 2, 1, 0]
        over = await client.get("/graphql", params=query, headers=headers)
        assert over.status_code == 429
        assert over.json()["errors"][0]["extensions"]["code"] == "RATE_LIMITED"
        assert int(over.headers["retry-after"]) >= 1


async def test_requests_the_edge_cannot_judge_take_the_stack(app_settings: Settings) -> None:
    async with running(app_settings) as (container, client):
        reader = await key(container, "orders:read", "orders:write")
        order_id = await create_order(client, {"X-API-Key": reader}, order_body())
        query = params(ORDER, order_id)
        for _ in range(2):
            assert (
                await client.get("/graphql", params=query, headers={"X-API-Key": reader})
            ).is_success
        bad = await client.get("/graphql", params=query, headers={"X-API-Key": reader + "0"})
        assert (bad.status_code, bad.headers["www-authenticate"]) == (401, 'Bearer realm="visapi"')
        anonymous = await client.get("/graphql", params=query)
        assert anonymous.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
        # Another permission set: its own entry (a miss), never the reader's one.
        lookups = "visapi_response_cache_lookups_total"
        assert (await scrape(client)).get_value(lookups, document="other", result="miss") == 1
        narrow = await key(container, "orders:read")
        other = await client.get("/graphql", params=query, headers={"X-API-Key": narrow})
        assert other.json()["data"]["order"]["id"] == order_id
        assert (await scrape(client)).get_value(lookups, document="other", result="miss") == 2


async def test_an_edge_that_fails_hands_the_request_to_the_stack(
    app_settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    """A bug in the edge's answer: the stack answers it, counted once against the limit."""
    app = create_app(replace(app_settings, rate_limit_per_key=50))
    assert isinstance(app, Api)
    assert isinstance(app.edge, CachedAnswers)

    def broken(*args: object) -> tuple[int, list[tuple[bytes, bytes]], bytes]:
        raise RuntimeError("a bug in the edge")

    transport = httpx.ASGITransport(app)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=transport, base_url="http://test") as client,
    ):
        try:
            container = app.state.container
            headers = {"X-API-Key": await key(container, "orders:read", "orders:write")}
            order_id = await create_order(client, headers, order_body())  # the first hit
            query = params(ORDER, order_id)
            first = await client.get("/graphql", params=query, headers=headers)
            app.edge._answer_hit = broken  # the next one is a hit the edge fails to answer
            second = await client.get("/graphql", params=query, headers=headers)
        finally:
            if app_settings.redis_url:
                await drop_namespace(app_settings.redis_url, app_settings.redis_namespace)
    assert (second.status_code, second.content) == (200, first.content)
    remaining = [int(a.headers["x-ratelimit-remaining"]) for a in (first, second)]
    assert remaining == [48, 47]
    assert "cached answer failed; the request takes the stack" in caplog.text
