"""The memory limiter's windows: X-RateLimit-Reset and Retry-After stay within 1..window seconds
whatever the clock reads, and made-up buckets cannot grow it past its bound."""

from __future__ import annotations

import pytest

from app.auth.ports import Verdict
from infrastructure.cache.rate_limits import MemoryRateLimiter
from rest.gate import limit_headers

# A monotonic reading where (now + 60.0) - now is 60.00000000000003: the memory limiter told
# the first request of a window to come back in 61 s (the baseline's flaky e2e failure).
OVERSHOOT = 210.605


def reset_of(verdict: Verdict | None) -> int:
    assert verdict is not None
    return int(dict(limit_headers(verdict))[b"x-ratelimit-reset"])


async def test_a_new_window_never_reports_more_than_itself() -> None:
    assert (OVERSHOOT + 60.0) - OVERSHOOT > 60.0  # the premise of this test
    limiter = MemoryRateLimiter(clock=lambda: OVERSHOOT)
    hit = await limiter.hit("key:a", 3, 60.0)
    assert hit is not None
    assert hit.reset_s <= 60.0
    assert reset_of(hit) == 60
    assert reset_of(await limiter.peek("key:a", 3, 60.0)) == 60


@pytest.mark.parametrize(
    ("reset_s", "header"), [(0.0, 1), (0.0004, 1), (1.0, 1), (59.001, 60), (60.0, 60)]
)
def test_the_header_rounds_up_and_is_at_least_one_second(reset_s: float, header: int) -> None:
    verdict = Verdict(allowed=False, limit=3, remaining=0, reset_s=reset_s)
    assert reset_of(verdict) == header


async def test_made_up_buckets_cannot_grow_the_memory_limiter_past_its_bound() -> None:
    now = [1000.0]
    limiter = MemoryRateLimiter(clock=lambda: now[0], max_buckets=3)
    for n in range(10):  # a flood of new buckets inside one window
        await limiter.hit(f"auth-failures:10.0.0.1:key:vk_{n}", 1, 60.0)
    assert len(limiter._buckets) == 3
    assert list(limiter._buckets) == [f"auth-failures:10.0.0.1:key:vk_{n}" for n in (7, 8, 9)]
    again = await limiter.hit("auth-failures:10.0.0.1:key:vk_9", 1, 60.0)  # live: still counted
    assert again is not None
    assert not again.allowed
    now[0] += 61.0  # every window ended: a new bucket finds them gone
    await limiter.hit("ip:10.0.0.2", 1, 60.0)
    assert list(limiter._buckets) == ["ip:10.0.0.2"]
