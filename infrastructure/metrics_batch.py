"""Request-path metrics counted in memory and written to prometheus-client in batches.

In multiprocess mode (`serve --workers N`) every `inc()` and `observe()` of prometheus-client
writes to a memory-mapped file and checks the process id first: the four a cached GraphQL answer
records (HTTP request, operation, response-cache lookup, key-check hit) took about a tenth of
its CPU time (`BENCH_PROFILE=1 make bench`, row order_persisted_hit). Here a record is a dict
update under a lock; the totals are written once per label set, by a daemon thread every
`FLUSH_S`, and before anything reads them (a scrape, `cacheStats`, process exit). A scrape
answered by one worker therefore shows another worker's last second a little late, never lost.
"""

from __future__ import annotations

import bisect
import logging
import os
import threading
import weakref
from collections.abc import Hashable
from typing import Any, Protocol

from prometheus_client import Counter, Histogram

log = logging.getLogger("visapi.metrics")

FLUSH_S = 1.0


class Batched:
    """Counts and observations waiting to be written, keyed by the metric's child."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._children: dict[tuple[int, Hashable], Any] = {}
        self._counts: dict[Any, int] = {}  # counter child -> increments
        self._observed: dict[Any, list[float]] = {}  # histogram child -> [sum, n per bucket...]
        _FLUSHER.watch(self)

    def child(self, metric: Counter | Histogram, labels: tuple[str, ...]) -> Any:
        """`metric.labels(*labels)`, cached here (prometheus-client validates on every call)."""
        key = (id(metric), labels)
        found = self._children.get(key)
        if found is None:
            found = self._children[key] = metric.labels(*labels)
        return found

    def inc(self, child: Any) -> None:
        with self._lock:
            self._counts[child] = self._counts.get(child, 0) + 1

    def observe(self, child: Any, seconds: float) -> None:
        # The bucket as prometheus-client picks it: the first upper bound >= the value.
        index = 1 + bisect.bisect_left(child._upper_bounds, seconds)
        with self._lock:
            slots = self._observed.get(child)
            if slots is None:
                slots = self._observed[child] = [0.0] * (1 + len(child._upper_bounds))
            slots[0] += seconds
            slots[index] += 1

    def flush(self) -> None:
        with self._lock:
            counts, self._counts = self._counts, {}
            observed, self._observed = self._observed, {}
        for child, n in counts.items():
            child.inc(n)
        for child, slots in observed.items():
            # prometheus-client's own observe() does these writes, one observation at a time.
            child._sum.inc(slots[0])
            for i, count in enumerate(slots[1:]):
                if count:
                    child._buckets[i].inc(count)


class Flushable(Protocol):
    def flush(self) -> None: ...


class _Flusher:
    """One daemon thread per process flushing every live `Batched` (and any other watched
    `Flushable`) every FLUSH_S."""

    def __init__(self) -> None:
        self._batches: weakref.WeakSet[Flushable] = weakref.WeakSet()
        self._lock = threading.Lock()
        self._pid: int | None = None

    def watch(self, batch: Flushable) -> None:
        with self._lock:
            self._batches.add(batch)
            if self._pid != os.getpid():  # first use in this process (or a forked child)
                self._pid = os.getpid()
                threading.Thread(target=self._run, name="metrics-flush", daemon=True).start()

    def _run(self) -> None:
        wake = threading.Event()
        while not wake.wait(FLUSH_S):
            with self._lock:
                batches = list(self._batches)
            for batch in batches:
                try:
                    batch.flush()
                except Exception:  # a metric must never stop the others being written
                    log.exception("writing batched metrics failed")


_FLUSHER = _Flusher()


def watch_flush(target: Flushable) -> None:
    """Have `target.flush()` called every FLUSH_S by this process's flusher thread (held
    weakly: it stops when `target` is gone)."""
    _FLUSHER.watch(target)
