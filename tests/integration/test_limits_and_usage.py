"""Rate limit counters and key usage on Redis and memory; on a dead Redis both fail open,
logged once per burst and counted."""

from __future__ import annotations

import logging
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from app.auth.ports import KeyUsage, RateLimiter
from infrastructure.cache.key_usage import MemoryKeyUsage, RedisKeyUsage
from infrastructure.cache.rate_limits import MemoryRateLimiter, RedisRateLimiter
from infrastructure.cache.redis import redis_client
from tests.services import redis_url_or_skip

T0 = datetime(2026, 6, 1, 9, tzinfo=UTC)


@pytest.fixture(params=["memory", "redis"])
async def backends(request: pytest.FixtureRequest) -> AsyncIterator[tuple[Any, Any]]:
    if request.param == "memory":
        yield MemoryRateLimiter(), MemoryKeyUsage()
        return
    url, namespace = redis_url_or_skip(), f"visapi-test-{uuid.uuid4().hex[:12]}"
    client = redis_client(url)
    try:
        yield RedisRateLimiter(client, namespace), RedisKeyUsage(client, namespace)
    finally:
        keys = [k async for k in client.scan_iter(match=f"{namespace}:*")]
        if keys:
            await client.delete(*keys)
        await client.aclose()


async def test_a_fixed_window_counts(backends: tuple[RateLimiter, KeyUsage]) -> None:
    limiter, _ = backends
    verdicts = [await limiter.hit("key:a", 3, 60) for _ in range(5)]
    assert all(v is not None for v in verdicts)
    assert [(v.allowed, v.remaining) for v in verdicts if v] == [
        (True, 2),
        (True, 1),
        (True, 0),
        (False, 0),
        (False, 0),
    ]
    assert all(0 < v.reset_s <= 60 for v in verdicts if v)
    assert verdicts[0] is not None
    assert verdicts[0].limit == 3
    other = await limiter.hit("key:b", 3, 60)  # buckets are independent
    assert other is not None
    assert other.remaining == 2


async def test_a_redis_window_is_its_key_expiry() -> None:
    """Redis ends a window by expiring its key, on Redis's clock: the test moves the expiry and
    removes the key, rather than waiting for either. (The memory limiter's windows, on an
    injected clock: tests/unit/test_memory_expiry.py.)"""
    namespace = f"visapi-test-{uuid.uuid4().hex[:12]}"
    client, bucket = redis_client(redis_url_or_skip()), f"{namespace}:rl:key:a"
    try:
        limiter = RedisRateLimiter(client, namespace)
        await limiter.hit("key:a", 3, 60)
        assert 0 < await client.pttl(bucket) <= 60_000
        await client.pexpire(bucket, 10_000)  # as if 50 s of the window had gone by
        later = [await limiter.hit("key:a", 3, 60) for _ in range(3)]
        assert [(v.allowed, v.remaining) for v in later if v] == [(True, 1), (True, 0), (False, 0)]
        assert all(0 < v.reset_s <= 10 for v in later if v)  # later hits do not extend it
        assert 0 < await client.pttl(bucket) <= 10_000
        await client.delete(bucket)  # what the expiry does
        fresh = await limiter.hit("key:a", 3, 60)
        assert fresh is not None
        assert (fresh.allowed, fresh.remaining) == (True, 2)
        assert 10 < fresh.reset_s <= 60
    finally:
        await client.delete(bucket)
        await client.aclose()


async def test_peek_does_not_count(backends: tuple[RateLimiter, KeyUsage]) -> None:
    limiter, _ = backends
    for _ in range(3):
        peeked = await limiter.peek("fail:ip", 2, 60)
        assert peeked is not None
        assert (peeked.allowed, peeked.remaining) == (True, 2)
    await limiter.hit("fail:ip", 2, 60)
    await limiter.hit("fail:ip", 2, 60)
    blocked = await limiter.peek("fail:ip", 2, 60)
    assert blocked is not None
    assert (blocked.allowed, blocked.remaining) == (False, 0)
    assert 59 < blocked.reset_s <= 60


async def test_usage_keeps_the_latest_time_per_key(backends: tuple[RateLimiter, KeyUsage]) -> None:
    _, usage = backends
    a, b = uuid.uuid4(), uuid.uuid4()
    await usage.touch(a, T0 + timedelta(seconds=5))
    await usage.touch(a, T0)  # an older report (another process, late) does not win
    await usage.touch(b, T0 + timedelta(seconds=1))
    drained = await usage.drain()
    assert drained == {a: T0 + timedelta(seconds=5), b: T0 + timedelta(seconds=1)}
    assert await usage.drain() == {}
    await usage.touch(a, T0 + timedelta(seconds=9))
    await usage.restore(drained)  # a failed flush gives its batch back
    assert await usage.drain() == {a: T0 + timedelta(seconds=9), b: T0 + timedelta(seconds=1)}


async def test_dead_redis_fails_open_logged_once_and_counted(
    caplog: pytest.LogCaptureFixture,
) -> None:
    client = redis_client("redis://127.0.0.1:1/0")  # nothing listens on port 1
    try:
        limiter, usage = RedisRateLimiter(client, "down"), RedisKeyUsage(client, "down")
        with caplog.at_level(logging.INFO):
            for _ in range(5):
                assert await limiter.hit("ip:1.2.3.4", 1, 60) is None
                assert await limiter.peek("ip:1.2.3.4", 1, 60) is None
                await usage.touch(uuid.uuid4(), T0)
            assert await usage.drain() == {}
        assert limiter.failures == 10
        assert usage.failures == 6
        warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
        assert len([w for w in warnings if w.startswith("rate limits:")]) == 1
        assert len([w for w in warnings if w.startswith("key usage:")]) == 1
        assert "failing open" in warnings[0]
    finally:
        await client.aclose()
