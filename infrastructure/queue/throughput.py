"""Throughput counters: messages processed, retried and failed per queue, in 5-second buckets.

Workers count in `JobCounters` (a Dramatiq middleware); the API reads the sums over the last
minute and the last five minutes. With Redis every worker process adds to the same hashes
(`<namespace>:jobstats:<bucket>`, one per bucket, fields `<queue>:<outcome>`) that expire
after the longest window; embedded, the StubBroker's worker and the API share one process,
so a dict behind a lock does.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import Counter
from collections.abc import Callable, Sequence
from typing import Any, Protocol

import dramatiq
import redis
import redis.asyncio
from dramatiq.common import q_name
from dramatiq.middleware import Middleware

from app.queues.ports import Throughput

log = logging.getLogger("visapi.throughput")

BUCKET_S = 5
LONGEST_WINDOW_S = 300
# Kept a little past the longest window so a read at its edge still finds the oldest bucket.
BUCKET_TTL_S = LONGEST_WINDOW_S + 2 * BUCKET_S
OUTCOMES = ("processed", "retried", "failed")


def bucket_of(at: float) -> int:
    return int(at // BUCKET_S)


def window_buckets(window_s: int, now: float) -> range:
    """The buckets of the last `window_s` seconds, the current (partial) one included."""
    last = bucket_of(now)
    return range(last - window_s // BUCKET_S + 1, last + 1)


def outcome_of(message: Any, exception: BaseException | None) -> str:
    if exception is None:
        return "processed"
    # The retry policy has run (it is later in the middleware list, so its hook runs first).
    return "failed" if message.failed else "retried"


def sums(counts: Sequence[tuple[str, str, int]], queues: Sequence[str]) -> dict[str, Throughput]:
    totals: Counter[tuple[str, str]] = Counter()
    for queue, outcome, n in counts:
        totals[queue, outcome] += n
    return {
        q: Throughput(
            processed=totals[q, "processed"],
            retried=totals[q, "retried"],
            failed=totals[q, "failed"],
        )
        for q in queues
    }


class CountSink(Protocol):
    def add(self, queue: str, outcome: str, at: float) -> None: ...


class MemoryCounts:
    """In-process counts (embedded mode): written by the worker thread, read by the API."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._counts: Counter[tuple[int, str, str]] = Counter()

    def add(self, queue: str, outcome: str, at: float) -> None:
        bucket = bucket_of(at)
        with self._lock:
            self._counts[bucket, queue, outcome] += 1
            oldest = bucket_of(at - BUCKET_TTL_S)
            for key in [k for k in self._counts if k[0] < oldest]:
                del self._counts[key]

    async def window(
        self, window_s: int, queues: Sequence[str], now: float
    ) -> dict[str, Throughput]:
        buckets = window_buckets(window_s, now)
        with self._lock:
            counts = [(q, o, n) for (b, q, o), n in self._counts.items() if b in buckets]
        return sums(counts, queues)


def _key(namespace: str, bucket: int) -> str:
    return f"{namespace}:jobstats:{bucket}"


class RedisCounts:
    """Adds to the shared Redis hashes with the worker's synchronous client."""

    def __init__(self, client: redis.Redis, namespace: str) -> None:
        self._client = client
        self._namespace = namespace

    def add(self, queue: str, outcome: str, at: float) -> None:
        key = _key(self._namespace, bucket_of(at))
        pipe = self._client.pipeline(transaction=False)
        pipe.hincrby(key, f"{queue}:{outcome}", 1)
        pipe.expire(key, BUCKET_TTL_S)
        pipe.execute()


class RedisCountReader:
    """Reads the shared hashes with the API's asyncio client: one round trip per window."""

    def __init__(self, client: redis.asyncio.Redis, namespace: str) -> None:
        self._client = client
        self._namespace = namespace

    async def window(
        self, window_s: int, queues: Sequence[str], now: float
    ) -> dict[str, Throughput]:
        pipe = self._client.pipeline(transaction=False)
        for bucket in window_buckets(window_s, now):
            pipe.hgetall(_key(self._namespace, bucket))
        counts: list[tuple[str, str, int]] = []
        for fields in await pipe.execute():
            for raw_field, raw_n in fields.items():
                field = raw_field.decode() if isinstance(raw_field, bytes) else raw_field
                queue, _, outcome = field.rpartition(":")
                counts.append((queue, outcome, int(raw_n)))
        return sums(counts, queues)


class JobCounters(Middleware):
    """Counts each finished delivery by queue and outcome. A failing count (Redis down) is
    logged and dropped: statistics must never fail or slow the job they describe."""

    def __init__(self, sink: CountSink, clock: Callable[[], float] = time.time) -> None:
        self.sink = sink
        self._clock = clock

    def after_process_message(
        self,
        broker: dramatiq.Broker,
        message: Any,
        *,
        result: Any = None,
        exception: BaseException | None = None,
    ) -> None:
        try:
            self.sink.add(q_name(message.queue_name), outcome_of(message, exception), self._clock())
        except Exception as exc:  # the counter is best effort; the job's outcome stands
            log.warning("job counter not updated: %r", exc)
