"""The CRM's rate limit shared by every process (VISAPI_CBB_RATE_PER_S): at most that many calls
a second, counted per second in Redis (in memory when embedded). A call past the rate waits for
the next second rather than being refused: a bulk repair's burst is spread out, never failed.
When Redis cannot count, calls go on unpaced (logged): the CRM's own 429s are handled anyway."""

from __future__ import annotations

import asyncio
import logging
import math
import time
from collections.abc import Awaitable, Callable
from typing import Any

log = logging.getLogger("visapi.vendors")


class Pacer:
    def __init__(
        self,
        rate_per_s: float,
        count: Callable[[int], Awaitable[int]],
        *,
        now: Callable[[], float] = time.time,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self.rate = max(1, math.floor(rate_per_s))
        self._count = count  # the calls counted in this second so far, this one included
        self._now = now
        self._sleep = sleep

    async def wait(self) -> None:
        """Return when this call may go out."""
        while True:
            second = int(self._now())
            try:
                taken = await self._count(second)
            except Exception as exc:
                log.warning("cbb pacing unavailable (%s: %s): not paced", type(exc).__name__, exc)
                return
            if taken <= self.rate:
                return
            await self._sleep(max(0.0, second + 1 - self._now()))


def redis_pacer(redis: Any, namespace: str, rate_per_s: float) -> Pacer:
    async def count(second: int) -> int:
        key = f"{namespace}:pace:cbb:{second}"
        async with redis.pipeline(transaction=True) as pipe:
            pipe.incr(key)
            pipe.expire(key, 5)
            taken, _ = await pipe.execute()
        return int(taken)

    return Pacer(rate_per_s, count)


def memory_pacer(rate_per_s: float) -> Pacer:
    counts: dict[int, int] = {}

    async def count(second: int) -> int:
        for old in [s for s in counts if s < second]:
            del counts[old]
        counts[second] = counts.get(second, 0) + 1
        return counts[second]

    return Pacer(rate_per_s, count)
