"""The CRM's pacing, on a clock of its own: at most `rate` calls a second, the next one waits
for the next second; a count that fails lets the call go (fail open)."""

from __future__ import annotations

import pytest

from infrastructure.vendors.pacing import Pacer, memory_pacer


class Clock:
    def __init__(self) -> None:
        self.t = 1000.25
        self.slept: list[float] = []

    def now(self) -> float:
        return self.t

    async def sleep(self, seconds: float) -> None:
        self.slept.append(round(seconds, 6))
        self.t += seconds


async def test_calls_past_the_rate_wait_for_the_next_second() -> None:
    clock = Clock()
    counts: dict[int, int] = {}

    async def count(second: int) -> int:
        counts[second] = counts.get(second, 0) + 1
        return counts[second]

    pacer = Pacer(3, count, now=clock.now, sleep=clock.sleep)
    for _ in range(7):
        await pacer.wait()
    # 3 in second 1000, then a wait of 0.75 s; 3 in 1001, a wait of 1 s; the 7th in 1002.
    assert clock.slept == [0.75, 1.0]
    assert {s: min(n, 3) for s, n in counts.items()} == {1000: 3, 1001: 3, 1002: 1}


async def test_a_count_that_fails_lets_the_call_go() -> None:
    async def broken(second: int) -> int:
        raise ConnectionError("redis away")

    await Pacer(1, broken).wait()  # returns: not paced, not refused


@pytest.mark.parametrize("rate", [1, 2.9])
async def test_the_memory_pacer_counts_whole_calls(rate: float) -> None:
    pacer = memory_pacer(rate)
    assert pacer.rate == int(rate)
