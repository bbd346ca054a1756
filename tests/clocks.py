"""A clock that moves only when a test says so, for adapters that take `clock=`."""

from __future__ import annotations


class FakeClock:
    """Monotonic seconds, as `time.monotonic` reads them; `advance` is the only way forward,
    so an expiry is decided by the test's arithmetic, never by how loaded the machine is."""

    def __init__(self, start: float = 1000.0) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        if seconds < 0:
            raise ValueError("a monotonic clock does not go back")
        self.now += seconds
