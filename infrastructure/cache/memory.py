"""In-process implementation of the Cache port: expiring dict with per-prefix generations."""

from __future__ import annotations

import math
import threading
import time
from collections import Counter
from collections.abc import Callable, Sequence

from app.metrics import NO_METRICS, Metrics
from app.ports import SEAL_LEASE_S

Clock = Callable[[], float]


class MemoryCache:
    """Cache for the embedded mode and tests; also a plain in-process key/value store.

    Entries carry the generation of their prefix at write time; `evict` bumps the generation
    (O(1)) and stale entries are dropped lazily on read or when the store is full. A `set` for a
    generation looked up before an `evict` is dropped (see the Cache port), as is any `set`
    while the prefix is sealed. `ttl=math.inf` stores without expiry.
    """

    def __init__(
        self,
        max_entries: int = 10_000,
        clock: Clock = time.monotonic,
        metrics: Metrics = NO_METRICS,
    ) -> None:
        if max_entries < 1:
            raise ValueError("max_entries must be at least 1")
        self.max_entries = max_entries
        self._clock = clock
        self._metrics = metrics
        # (prefix, key) → (generation, expires_at, value); insertion order = age, for eviction.
        self._entries: dict[tuple[str, str], tuple[int, float, bytes]] = {}
        self._generations: Counter[str] = Counter()
        # prefix → {seal token: sealed at (clock)}
        self._seals: dict[str, dict[str, float]] = {}
        self._hits: Counter[str] = Counter()
        self._misses: Counter[str] = Counter()
        # Embedded `serve` runs Dramatiq's worker (and its event handlers) on another thread.
        self._lock = threading.Lock()

    async def get(self, prefix: str, key: str) -> bytes | None:
        return self.get_now(prefix, key)

    def get_now(self, prefix: str, key: str) -> bytes | None:
        """Synchronous `get`, for callers outside an event loop."""
        return self.lookup_now(prefix, key)[0]

    def peek_now(self, prefix: str, key: str) -> bytes | None:
        """The live value or None, counting neither a hit nor a miss."""
        with self._lock:
            entry = self._entries.get((prefix, key))
            if entry is not None and self._live(prefix, entry, self._clock()):
                return entry[2]
            return None

    async def lookup(self, prefix: str, key: str) -> tuple[bytes | None, int]:
        return self.lookup_now(prefix, key)

    def lookup_now(self, prefix: str, key: str) -> tuple[bytes | None, int]:
        """Synchronous `lookup`: the value (or None) and the generation it was looked up in."""
        with self._lock:
            generation = self._generations[prefix]
            entry = self._entries.get((prefix, key))
            value = None
            if entry is not None and self._live(prefix, entry, self._clock()):
                self._hits[prefix] += 1
                value = entry[2]
            else:
                if entry is not None:
                    del self._entries[(prefix, key)]
                self._misses[prefix] += 1
        self._metrics.cache_lookup(prefix, value is not None)
        return value, generation

    async def set(
        self, prefix: str, key: str, value: bytes, ttl: float, *, generation: int | None = None
    ) -> None:
        self.set_now(prefix, key, value, ttl, generation=generation)

    def set_now(
        self, prefix: str, key: str, value: bytes, ttl: float, *, generation: int | None = None
    ) -> None:
        """Synchronous `set`, for callers outside an event loop."""
        with self._lock:
            now = self._clock()
            if self._sealed(prefix, now):
                return
            current = self._generations[prefix]
            # A value read in an evicted generation would be dead on arrival; storing it would
            # also replace the key's entry in the current generation, so it is dropped.
            if generation is not None and generation != current:
                return
            self._put(prefix, key, value, ttl, now)

    def lookup_depending(
        self, prefix: str, key: str, depends: Sequence[str]
    ) -> tuple[bytes | None, str]:
        """The entry stored by `set_depending` under the current generations of `depends`, and
        those generations (a dotted string), read together; counts neither hit nor miss."""
        with self._lock:
            generations = ".".join(str(self._generations[p]) for p in depends)
            entry = self._entries.get((prefix, f"{key}:{generations}"))
            if entry is not None and self._live(prefix, entry, self._clock()):
                return entry[2], generations
            return None, generations

    def set_depending(
        self,
        prefix: str,
        key: str,
        value: bytes,
        ttl: float,
        *,
        depends: Sequence[str],
        generations: str,
    ) -> None:
        """Store `value` for `lookup_depending` only while no prefix of `depends` is sealed
        and their generations are still `generations` (as looked up before computing it)."""
        with self._lock:
            now = self._clock()
            sealed = [self._sealed(p, now) for p in depends]  # each lapsed seal evicts
            if any(sealed):
                return
            if ".".join(str(self._generations[p]) for p in depends) != generations:
                return
            self._put(prefix, f"{key}:{generations}", value, ttl, now)

    def _put(self, prefix: str, key: str, value: bytes, ttl: float, now: float) -> None:
        # Re-inserting moves the key to the young end of the dict.
        self._entries.pop((prefix, key), None)
        if len(self._entries) >= self.max_entries:
            self._make_room(now)
        expires = math.inf if math.isinf(ttl) else now + ttl
        self._entries[(prefix, key)] = (self._generations[prefix], expires, value)

    async def delete(self, prefix: str, key: str) -> None:
        with self._lock:
            self._entries.pop((prefix, key), None)

    async def evict(self, *prefixes: str) -> None:
        with self._lock:
            for prefix in prefixes:
                self._generations[prefix] += 1

    async def seal(self, prefix: str, token: str) -> None:
        with self._lock:
            self._generations[prefix] += 1
            self._seals.setdefault(prefix, {})[token] = self._clock()

    async def unseal(self, prefix: str, token: str) -> None:
        with self._lock:
            self._seals.get(prefix, {}).pop(token, None)
            self._generations[prefix] += 1

    def _sealed(self, prefix: str, now: float) -> bool:
        seals = self._seals.get(prefix)
        if not seals:
            return False
        lapsed = [t for t, at in seals.items() if at <= now - SEAL_LEASE_S]
        for token in lapsed:
            del seals[token]
        if lapsed:  # as the Redis backend does: a lapsed seal evicts once more
            self._generations[prefix] += 1
            return True
        return bool(seals)

    def stats(self) -> dict[str, tuple[int, int]]:
        """Hits and misses per prefix since start."""
        with self._lock:
            prefixes = self._hits.keys() | self._misses.keys()
            return {p: (self._hits[p], self._misses[p]) for p in sorted(prefixes)}

    def error_count(self, prefix: str | None = None) -> int:
        """Always 0: memory does not fail. Present so both backends report the same way."""
        return 0

    def __len__(self) -> int:
        return len(self._entries)

    def _live(self, prefix: str, entry: tuple[int, float, bytes], now: float) -> bool:
        return entry[0] == self._generations[prefix] and entry[1] > now

    def _make_room(self, now: float) -> None:
        # Sweep dead entries first; if the store is still full, drop the oldest down to 90 %
        # so that a full store of live entries does not pay an O(n) sweep on every set.
        dead = [k for k, e in self._entries.items() if not self._live(k[0], e, now)]
        for k in dead:
            del self._entries[k]
        excess = len(self._entries) - int(self.max_entries * 0.9)
        for k in list(self._entries)[: max(excess, 0)]:
            del self._entries[k]
