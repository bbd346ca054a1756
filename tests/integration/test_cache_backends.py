"""The Cache port's contract on MemoryCache and RedisCache, and RedisCache when Redis is down."""

from __future__ import annotations

import asyncio
import logging
import math
from typing import Any

import pytest
import redis.asyncio
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff

import infrastructure.cache.redis as redis_adapter
from app.cache import cached, evict
from app.ports import Cache
from infrastructure.cache.redis import RedisCache, redis_client
from tests.integration.conftest import redis_caches


async def test_set_get_and_stats(cache: Cache) -> None:
    assert await cache.get("orders", "id:1") is None
    await cache.set("orders", "id:1", b"\x00binary\xff", ttl=30)
    assert await cache.get("orders", "id:1") == b"\x00binary\xff"
    assert await cache.get("stats", "id:1") is None  # same key, other prefix
    assert cache.stats() == {"orders": (1, 1), "stats": (0, 1)}


async def test_set_overwrites_and_delete_removes(cache: Cache) -> None:
    await cache.set("orders", "id:1", b"old", ttl=30)
    await cache.set("orders", "id:1", b"new", ttl=30)
    assert await cache.get("orders", "id:1") == b"new"
    await cache.delete("orders", "id:1")
    assert await cache.get("orders", "id:1") is None


async def test_evict_drops_every_key_of_one_prefix_only(cache: Cache) -> None:
    await cache.set("orders", "id:1", b"1", ttl=30)
    await cache.set("orders", "unprocessed", b"2", ttl=30)
    await cache.set("workflows", "enabled", b"3", ttl=30)
    await cache.evict("orders")
    assert await cache.get("orders", "id:1") is None
    assert await cache.get("orders", "unprocessed") is None
    assert await cache.get("workflows", "enabled") == b"3"
    await cache.set("orders", "id:1", b"fresh", ttl=30)  # the new generation is writable
    assert await cache.get("orders", "id:1") == b"fresh"


async def test_one_eviction_of_several_prefixes_drops_each_of_them(cache: Cache) -> None:
    for prefix in ("orders", "order-stats", "workflows"):
        await cache.set(prefix, "k", prefix.encode(), ttl=30)
    await cache.evict("orders", "order-stats")
    assert await cache.get("orders", "k") is None
    assert await cache.get("order-stats", "k") is None
    assert await cache.get("workflows", "k") == b"workflows"
    await cache.evict()  # nothing to drop: no call at all


async def test_cached_handler_hits_on_the_backend(cache: Cache) -> None:
    calls: list[int] = []

    @cached("orders", ttl=30, key=lambda n, **_: f"n:{n}")
    async def square(n: int, *, cache: Cache | None) -> dict[str, int]:
        calls.append(n)
        return {"n": n * n}

    assert await square(3, cache=cache) == {"n": 9}
    assert await square(3, cache=cache) == {"n": 9}
    await evict(cache, "orders:*")
    assert await square(3, cache=cache) == {"n": 9}
    assert calls == [3, 3]


async def test_lookup_answers_the_generation_and_a_set_for_an_evicted_one_is_dropped(
    cache: Cache,
) -> None:
    assert (await cache.lookup("orders", "id:1"))[0] is None
    await cache.set("orders", "id:1", b"v0", ttl=30)
    value, before = await cache.lookup("orders", "id:1")
    assert (value, before is not None) == (b"v0", True)
    await cache.evict("orders")
    value, after = await cache.lookup("orders", "id:1")
    assert value is None
    assert after is not None
    assert after != before
    # A value computed from what was read before the eviction does not become current ...
    await cache.set("orders", "id:1", b"stale", ttl=30, generation=before)
    assert await cache.lookup("orders", "id:1") == (None, after)
    # ... the one computed after it does, and a late stale write does not replace it.
    await cache.set("orders", "id:1", b"fresh", ttl=30, generation=after)
    await cache.set("orders", "id:1", b"stale", ttl=30, generation=before)
    assert await cache.lookup("orders", "id:1") == (b"fresh", after)
    assert await cache.lookup("stats", "id:1") == (None, 0)  # generations are per prefix
    assert cache.stats() == {"orders": (2, 3), "stats": (0, 1)}


async def test_eviction_is_seen_by_another_process() -> None:
    async with redis_caches(2) as (a, b):
        await a.set("orders", "id:1", b"v1", ttl=30)
        assert await b.get("orders", "id:1") == b"v1"
        await b.evict("orders")
        assert await a.get("orders", "id:1") is None
        assert (a.stats(), b.stats()) == ({"orders": (0, 1)}, {"orders": (1, 0)})


async def test_redis_key_layout_and_ttl() -> None:
    async with redis_caches(1) as (cache,):
        ns, raw = cache.namespace, cache.client
        await cache.set("orders", "id:1", b"v", ttl=30)
        await cache.evict("orders")
        assert await raw.get(f"{ns}:gen:orders") == b"1"
        assert 0 < await raw.pttl(f"{ns}:c:orders:0:id:1") <= 30_000
        await cache.set("orders", "id:1", b"v2", ttl=30)
        assert await raw.get(f"{ns}:c:orders:1:id:1") == b"v2"
        # Expiry is Redis's own (PX): what the adapter owns is the TTL it hands over, so that
        # is asserted rather than waited out (the memory twin's expiry: tests/unit).
        await cache.set("orders", "short", b"s", ttl=0.05)
        assert 0 < await raw.pttl(f"{ns}:c:orders:1:short") <= 50
        # Rounded to 0 ms it would read as "no expiry": it becomes 1 ms (gone at once, or nearly).
        await cache.set("orders", "tiny", b"t", ttl=0.0001)
        assert await raw.pttl(f"{ns}:c:orders:1:tiny") in (1, 0, -2)
        await cache.set("orders", "forever", b"f", ttl=math.inf)
        assert await raw.pttl(f"{ns}:c:orders:1:forever") == -1


async def test_redis_set_for_an_evicted_generation_writes_no_key() -> None:
    async with redis_caches(2) as (a, b):
        ns, raw = a.namespace, a.client
        assert await a.lookup("orders", "id:1") == (None, 0)
        await b.evict("orders")  # another process commits a write
        await a.set("orders", "id:1", b"stale", ttl=30, generation=0)
        assert [k async for k in raw.scan_iter(match=f"{ns}:c:*")] == []
        assert await b.lookup("orders", "id:1") == (None, 1)
        await b.set("orders", "id:1", b"fresh", ttl=30, generation=1)
        assert await a.lookup("orders", "id:1") == (b"fresh", 1)
        assert 0 < await raw.pttl(f"{ns}:c:orders:1:id:1") <= 30_000


async def test_redis_lookup_and_set_are_one_round_trip_each(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    async with redis_caches(1) as (cache,):
        await cache.lookup("orders", "id:1")  # loads the scripts
        await cache.set("orders", "id:1", b"v", ttl=30, generation=0)
        sent: list[Any] = []
        execute = cache.client.execute_command

        async def counting(*args: Any, **options: Any) -> Any:
            sent.append(args[0])
            return await execute(*args, **options)

        monkeypatch.setattr(cache.client, "execute_command", counting)
        assert await cache.lookup("orders", "id:1") == (b"v", 0)
        await cache.set("orders", "id:1", b"w", ttl=30, generation=0)
        assert await cache.get("orders", "id:1") == b"w"
        assert sent == ["EVALSHA", "EVALSHA", "EVALSHA"]


async def test_redis_down_reads_miss_writes_skip_and_handlers_still_answer() -> None:
    client = redis_client("redis://127.0.0.1:1/0")  # nothing listens on port 1
    try:
        cache = RedisCache(client, namespace="down")
        assert await cache.get("orders", "id:1") is None
        assert await cache.lookup("orders", "id:1") == (None, None)  # no generation: don't store
        await cache.set("orders", "id:1", b"v", ttl=30)
        await cache.delete("orders", "id:1")
        await cache.evict("orders")

        @cached("orders", ttl=30, key=lambda n, **_: f"n:{n}")
        async def double(n: int, *, cache: Cache | None) -> int:
            return n * 2

        assert await double(21, cache=cache) == 42  # one failed lookup, and no attempt to store
        assert cache.stats() == {"orders": (0, 3)}
        assert cache.error_count() == 6
        assert cache.error_count("orders") == 6
        assert cache.error_count("stats") == 0
    finally:
        await client.aclose()


async def test_redis_down_logs_once_per_burst(
    caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(redis_adapter, "BREAKER_SECONDS", 0.0)  # every call really fails
    client = redis_client("redis://127.0.0.1:1/0")
    try:
        cache = RedisCache(client, namespace="down")
        with caplog.at_level(logging.WARNING, logger="visapi.cache"):
            for _ in range(5):
                assert await cache.get("orders", "id:1") is None
        assert cache.error_count() == 5
        assert len(caplog.records) == 1
        assert "Redis call failed" in caplog.records[0].getMessage()
    finally:
        await client.aclose()


async def test_breaker_stops_calling_a_redis_that_does_not_answer() -> None:
    """A server that accepts but never replies: only the first call waits for the timeout."""
    connections = 0

    async def mute(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        nonlocal connections
        connections += 1
        await reader.read()  # until the client gives up and closes
        writer.close()

    server = await asyncio.start_server(mute, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    client = redis.asyncio.Redis(port=port, socket_timeout=0.2, retry=Retry(NoBackoff(), 0))
    try:
        cache = RedisCache(client, namespace="mute")
        for _ in range(3):
            assert await cache.get("orders", "id:1") is None
        assert connections == 1
        assert cache.error_count() == 3
    finally:
        await client.aclose()
        server.close()
        await server.wait_closed()
