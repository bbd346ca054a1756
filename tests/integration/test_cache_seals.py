"""Seals of the Cache port (app.cache.invalidating) on MemoryCache and RedisCache: a seal evicts
and refuses every store until its unseal or its lease, which evicts once more when it lapses;
on a Redis that does not answer, both raise instead of passing for done."""

from __future__ import annotations

import pytest

from app.ports import SEAL_LEASE_S, Cache, CacheUnavailable
from infrastructure.cache.redis import RedisCache, redis_client
from tests.integration.conftest import redis_caches


async def test_a_seal_evicts_and_refuses_stores_until_each_of_its_tokens_is_lifted(
    cache: Cache,
) -> None:
    await cache.set("api-key-checks", "k", b"old", ttl=30)
    await cache.seal("api-key-checks", "revoke-1")
    assert await cache.get("api-key-checks", "k") is None
    _, sealed = await cache.lookup("api-key-checks", "k")
    await cache.set("api-key-checks", "k", b"read-before-commit", ttl=30, generation=sealed)
    await cache.set("api-key-checks", "k", b"any generation", ttl=30)
    await cache.seal("api-key-checks", "rotate-2")  # another change, at the same time
    await cache.unseal("api-key-checks", "revoke-1")
    await cache.set("api-key-checks", "k", b"still sealed by rotate-2", ttl=30)
    assert await cache.get("api-key-checks", "k") is None
    await cache.set("other", "k", b"other prefixes are not sealed", ttl=30)
    assert await cache.get("other", "k") == b"other prefixes are not sealed"

    await cache.unseal("api-key-checks", "rotate-2")
    value, after = await cache.lookup("api-key-checks", "k")
    assert value is None
    assert sealed is not None
    assert after is not None
    assert after > sealed  # what was looked up under the seal is dead for good
    await cache.set("api-key-checks", "k", b"late", ttl=30, generation=sealed)
    assert await cache.get("api-key-checks", "k") is None
    await cache.set("api-key-checks", "k", b"fresh", ttl=30, generation=after)
    assert await cache.get("api-key-checks", "k") == b"fresh"


async def test_a_lapsed_seal_on_redis_evicts_once_more_so_late_stores_stay_dead() -> None:
    """The lease is counted on Redis's clock (TIME in the script), which no test can move: the
    seal is back-dated instead, as if it had been set a lease ago. (The memory backend's lease,
    on an injected clock: tests/unit/test_memory_expiry.py.)"""
    async with redis_caches(1) as (cache,):
        await cache.seal("users", "never-unsealed")  # its process died, or Redis did not answer
        _, sealed = await cache.lookup("users", "s")
        await cache.set("users", "s", b"refused", ttl=30)  # the lease still holds
        assert await cache.get("users", "s") is None
        seals = cache.seals_of("users")
        [(_, set_at)] = await cache.client.zrange(seals, 0, -1, withscores=True)
        await cache.client.zadd(seals, {"never-unsealed": set_at - SEAL_LEASE_S * 1000})
        # A store of a row read under the seal (say, queued in a paused Redis) arrives late.
        await cache.set("users", "s", b"stale", ttl=30, generation=sealed)
        value, now = await cache.lookup("users", "s")
        assert value is None
        assert sealed is not None
        assert now == sealed + 1
        assert await cache.client.exists(seals) == 0
        await cache.set("users", "s", b"fresh", ttl=30, generation=now)
        assert await cache.get("users", "s") == b"fresh"


async def test_seals_live_in_redis_under_the_namespace() -> None:
    async with redis_caches(2) as (a, b):
        await a.seal("users", "t1")
        assert await a.client.zcard(f"{a.namespace}:seals:users") == 1
        await b.set("users", "s", b"v", ttl=30)  # another process: refused as well
        assert await b.get("users", "s") is None
        await b.unseal("users", "t1")  # lifted by token, whoever runs it
        assert await a.client.exists(f"{a.namespace}:seals:users") == 0
        assert await a.client.get(f"{a.namespace}:gen:users") == b"2"


async def test_seal_and_unseal_raise_when_redis_does_not_answer() -> None:
    client = redis_client("redis://127.0.0.1:1/0")  # nothing listens on port 1
    try:
        cache = RedisCache(client, namespace="down")
        with pytest.raises(CacheUnavailable):
            await cache.seal("api-key-checks", "t")
        with pytest.raises(CacheUnavailable):  # the breaker is open now: fails at once
            await cache.unseal("api-key-checks", "t")
        assert cache.error_count("api-key-checks") == 2
    finally:
        await client.aclose()
