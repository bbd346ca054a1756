"""Expiry in the in-memory backends, decided by an injected clock: a cache entry's TTL, a seal's
lease and a rate limit window end when the test advances the clock, not when time has passed.
(Their Redis twins keep Redis's own clock: tests/integration asserts the PTTL they set.)"""

from __future__ import annotations

import math

from app.ports import SEAL_LEASE_S
from infrastructure.cache.memory import MemoryCache
from infrastructure.cache.rate_limits import MemoryRateLimiter
from tests.clocks import FakeClock


async def test_entries_expire_after_their_ttl_and_not_before() -> None:
    clock = FakeClock()
    cache = MemoryCache(clock=clock)
    await cache.set("orders", "short", b"1", ttl=0.05)
    await cache.set("orders", "long", b"2", ttl=30)
    await cache.set("orders", "forever", b"3", ttl=math.inf)
    clock.advance(0.049)
    assert await cache.get("orders", "short") == b"1"
    clock.advance(0.001)  # the TTL is up: an entry is live strictly before its end
    assert await cache.get("orders", "short") is None
    assert await cache.get("orders", "long") == b"2"
    clock.advance(10 * 365 * 86400)
    assert await cache.get("orders", "long") is None
    assert await cache.get("orders", "forever") == b"3"
    assert len(cache) == 1  # expired entries are dropped on the read that finds them dead


async def test_a_lapsed_seal_evicts_once_more_so_stores_queued_under_it_stay_dead() -> None:
    clock = FakeClock()
    cache = MemoryCache(clock=clock)
    await cache.seal("users", "never-unsealed")  # its process died before unsealing
    _, sealed = await cache.lookup("users", "s")
    clock.advance(SEAL_LEASE_S - 0.001)
    await cache.set("users", "s", b"refused", ttl=30)  # the lease still holds
    assert await cache.get("users", "s") is None
    clock.advance(0.001)
    # A store of a row read under the seal (say, queued behind a slow thread) arrives late.
    await cache.set("users", "s", b"stale", ttl=30, generation=sealed)
    value, now = await cache.lookup("users", "s")
    assert value is None
    assert now == sealed + 1
    await cache.set("users", "s", b"fresh", ttl=30, generation=now)
    assert await cache.get("users", "s") == b"fresh"


async def test_a_fixed_window_counts_from_its_first_hit_and_starts_again_when_it_ends() -> None:
    clock = FakeClock()
    limiter = MemoryRateLimiter(clock=clock)
    first = await limiter.hit("key:a", 3, 0.3)
    clock.advance(0.1)
    rest = [await limiter.hit("key:a", 3, 0.3) for _ in range(4)]
    verdicts = [first, *rest]
    assert [(v.allowed, v.remaining) for v in verdicts if v] == [
        (True, 2),
        (True, 1),
        (True, 0),
        (False, 0),
        (False, 0),
    ]
    assert [round(v.reset_s, 6) for v in verdicts if v] == [0.3, 0.2, 0.2, 0.2, 0.2]
    peeked = await limiter.peek("key:a", 3, 0.3)
    assert peeked is not None
    assert (peeked.allowed, peeked.remaining) == (False, 0)
    clock.advance(0.2)  # the window started by the first hit is over
    fresh = await limiter.hit("key:a", 3, 0.3)
    assert fresh is not None
    assert (fresh.allowed, fresh.remaining, round(fresh.reset_s, 6)) == (True, 2, 0.3)


async def test_a_release_gives_a_count_back_only_inside_its_window() -> None:
    clock = FakeClock()
    limiter = MemoryRateLimiter(clock=clock)
    await limiter.hit("fail:ip", 2, 60)
    await limiter.hit("fail:ip", 2, 60)
    await limiter.release("fail:ip")
    again = await limiter.peek("fail:ip", 2, 60)
    assert again is not None
    assert (again.allowed, again.remaining) == (True, 1)
    clock.advance(60)
    await limiter.release("fail:ip")  # the window ended: nothing to give back, no debt kept
    after = await limiter.hit("fail:ip", 2, 60)
    assert after is not None
    assert (after.allowed, after.remaining) == (True, 1)
