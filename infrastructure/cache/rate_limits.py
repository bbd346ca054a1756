"""Rate limit counters: fixed windows in Redis (shared by every process) or in memory."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

import redis.asyncio

from app.auth.ports import Verdict
from infrastructure.cache.failopen import FailOpen
from infrastructure.cache.scripts import LuaScript

log = logging.getLogger("visapi.ratelimit")

# A fixed window per bucket, started by its first hit: one INCR round trip, an exact
# X-RateLimit-Reset, and no clock shared between processes (Redis keeps the expiry).
_HIT = """
local n = redis.call('INCR', KEYS[1])
if n == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
local ttl = redis.call('PTTL', KEYS[1])
if ttl < 0 then redis.call('PEXPIRE', KEYS[1], ARGV[1]); ttl = tonumber(ARGV[1]) end
return {n, ttl}
"""
_PEEK = """
local n = tonumber(redis.call('GET', KEYS[1]) or '0')
return {n, redis.call('PTTL', KEYS[1])}
"""
# Only inside a live window: a DECR after expiry would create a key of -1 that never expires.
_RELEASE = """
local n = tonumber(redis.call('GET', KEYS[1]) or '0')
if n > 0 then redis.call('DECR', KEYS[1]) end
return n
"""


def verdict_of(count: int, limit: int, reset_s: float, *, counted: bool) -> Verdict:
    allowed = count <= limit if counted else count < limit
    return Verdict(allowed=allowed, limit=limit, remaining=max(0, limit - count), reset_s=reset_s)


class RedisRateLimiter:
    """Counters at `{ns}:rl:{bucket}`; fails open (None) when Redis does not answer."""

    def __init__(self, client: redis.asyncio.Redis, namespace: str = "visapi") -> None:
        self.namespace = namespace
        self._hit = LuaScript(client, _HIT)
        self._peek = LuaScript(client, _PEEK)
        self._release = LuaScript(client, _RELEASE)
        self._guard = FailOpen("rate limits", log)

    @property
    def failures(self) -> int:
        """Calls answered "unavailable" since start (each let a request through unchecked)."""
        return self._guard.failures

    async def hit(self, bucket: str, limit: int, window_s: float) -> Verdict | None:
        return await self._run(self._hit, bucket, limit, window_s, counted=True)

    async def peek(self, bucket: str, limit: int, window_s: float) -> Verdict | None:
        return await self._run(self._peek, bucket, limit, window_s, counted=False)

    async def release(self, bucket: str) -> None:
        await self._guard(self._release, [f"{self.namespace}:rl:{bucket}"], [])

    async def _run(
        self, script: LuaScript, bucket: str, limit: int, window_s: float, *, counted: bool
    ) -> Verdict | None:
        window_ms = max(1, round(window_s * 1000))
        args = [window_ms] if counted else []
        result = await self._guard(script, [f"{self.namespace}:rl:{bucket}"], args)
        if result is None:
            return None
        count, ttl_ms = int(result[0]), int(result[1])
        reset_s = ttl_ms / 1000 if ttl_ms > 0 else window_s
        return verdict_of(count, limit, reset_s, counted=counted)


class MemoryRateLimiter:
    """The embedded mode's counters: one process, so a dict of (count, window end) suffices."""

    failures = 0  # memory does not fail; present so both backends report alike

    def __init__(self, clock: Callable[[], float] = time.monotonic, max_buckets: int = 100_000):
        self._clock = clock
        self._max = max_buckets
        self._buckets: dict[str, tuple[int, float]] = {}

    async def hit(self, bucket: str, limit: int, window_s: float) -> Verdict | None:
        now = self._clock()
        count, ends = self._current(bucket, now)
        if count == 0:
            ends = now + window_s
            self._buckets.pop(bucket, None)  # to the back: the dict stays oldest window first
            self._trim(now)
        count += 1
        self._buckets[bucket] = (count, ends)
        return verdict_of(count, limit, _left(ends, now, window_s), counted=True)

    async def peek(self, bucket: str, limit: int, window_s: float) -> Verdict | None:
        now = self._clock()
        count, ends = self._current(bucket, now)
        left = _left(ends, now, window_s) if count else window_s
        return verdict_of(count, limit, left, counted=False)

    async def release(self, bucket: str) -> None:
        count, ends = self._current(bucket, self._clock())
        if count > 0:
            self._buckets[bucket] = (count - 1, ends)

    def _current(self, bucket: str, now: float) -> tuple[int, float]:
        count, ends = self._buckets.get(bucket, (0, now))
        return (count, ends) if ends > now else (0, now)

    def _trim(self, now: float) -> None:
        # Failed authentications have a bucket per IP and key prefix, so a flood of made-up
        # prefixes makes new buckets as fast as it sends. Oldest first (every window has the
        # same length): drop the ended ones, and at `max_buckets` the oldest live ones too
        # (their counts start again: forgetting a guesser costs it `max_buckets` requests).
        # Each bucket is dropped once, so a hit costs O(1) however full the dict.
        while self._buckets:
            first = next(iter(self._buckets))
            if self._buckets[first][1] > now and len(self._buckets) < self._max:
                return
            del self._buckets[first]


def _left(ends: float, now: float, window_s: float) -> float:
    # (now + 60.0) - now can be 60.00000000000003 in floating point (now = 210.605, say): an
    # X-RateLimit-Reset of 61 for a 60 s window. A window never has more than itself left.
    return min(ends - now, window_s)
