"""Cache and response-cache lookups summed over every process on every host, workers included.

Prometheus' own counters are per process (or per `serve`, through its multiprocess directory);
`cacheStats` answers for the whole deployment. With Redis, each process counts its lookups in
memory and adds them to one hash, `<namespace>:lookups` (fields `cache:<prefix>:hit`,
`response:<document>:miss`, ...), every second from the metrics flusher thread, in one
pipelined round trip; `cacheStats` first adds its own process's share, then reads the hash.
Another process's last second may be missing from an answer, never lost. When Redis cannot
take them, the counts wait in memory for the next flush (a bounded number of labels), so an
outage delays them without losing them. Embedded mode has one process and no Redis: it keeps
reading prometheus-client's counters.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections import Counter

import redis

from infrastructure.metrics_batch import watch_flush

log = logging.getLogger("visapi.metrics")

Totals = dict[str, tuple[int, int]]
KINDS = ("cache", "response")
# Labels kept for a later flush while Redis is away (prefixes and documents are bounded anyway).
MAX_PENDING_LABELS = 10_000


class SharedLookups:
    def __init__(self, client: redis.Redis, namespace: str) -> None:
        self._client = client
        self._key = f"{namespace}:lookups"
        self._lock = threading.Lock()
        self._pending: Counter[str] = Counter()
        self._failing = False
        watch_flush(self)

    def add(self, kind: str, label: str, hit: bool) -> None:
        field = f"{kind}:{label}:{'hit' if hit else 'miss'}"
        with self._lock:
            self._pending[field] += 1

    def flush(self) -> None:
        with self._lock:
            pending, self._pending = self._pending, Counter()
        if not pending:
            return
        try:
            pipe = self._client.pipeline(transaction=False)
            for field, n in pending.items():
                pipe.hincrby(self._key, field, n)
            pipe.execute()
        except Exception as exc:
            with self._lock:
                if len(self._pending) + len(pending) <= MAX_PENDING_LABELS:
                    self._pending.update(pending)
            if not self._failing:
                log.warning("cache lookup counts not shared (kept for the next try): %r", exc)
            self._failing = True
            return
        self._failing = False

    async def totals(self) -> tuple[Totals, Totals]:
        """(cache hits and misses by prefix, response-cache ones by document), all processes."""
        return await asyncio.to_thread(self._read)

    def _read(self) -> tuple[Totals, Totals]:
        self.flush()
        raw = self._client.hgetall(self._key)
        counts: dict[str, dict[str, list[int]]] = {kind: {} for kind in KINDS}
        for raw_field, raw_n in raw.items():
            field = raw_field.decode() if isinstance(raw_field, bytes) else str(raw_field)
            kind, _, rest = field.partition(":")
            label, _, result = rest.rpartition(":")
            if kind not in counts or result not in ("hit", "miss"):
                continue
            slot = counts[kind].setdefault(label, [0, 0])
            slot[0 if result == "hit" else 1] += int(raw_n)
        cache, responses = (
            {k: (h, m) for k, (h, m) in sorted(counts[kind].items())} for kind in KINDS
        )
        return cache, responses
