"""The CRM's pacing counted in Redis: every process's calls in one second share one counter
(two pacers here, as two processes would have), which expires on its own."""

from __future__ import annotations

import uuid

import pytest
import redis.asyncio

from infrastructure.vendors.pacing import redis_pacer

pytestmark = pytest.mark.redis


async def test_two_processes_share_one_count_per_second(redis_url: str) -> None:
    client = redis.asyncio.from_url(redis_url)
    namespace = f"visapi-pace-{uuid.uuid4().hex[:8]}"
    try:
        a, b = redis_pacer(client, namespace, 3), redis_pacer(client, namespace, 3)
        counts = [await a._count(4242), await b._count(4242), await a._count(4242)]
        later = await b._count(4243)
        ttl = await client.ttl(f"{namespace}:pace:cbb:4242")
    finally:
        await client.delete(f"{namespace}:pace:cbb:4242", f"{namespace}:pace:cbb:4243")
        await client.aclose()
    assert counts == [1, 2, 3]
    assert later == 1
    assert 0 < ttl <= 5
