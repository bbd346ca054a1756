"""Log read handlers: pages, counts and exports straight from the reads; stats cached briefly."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime

from app.cache import cached
from app.codec import decoder
from app.logs.ports import LogAfter, LogFilter, LogPage, LogReads, LogStats, LogView
from app.ports import Cache

LOG_STATS = "log-stats"


async def log_stats(now: datetime, *, reads: LogReads, cache: Cache | None) -> LogStats:
    return await reads.stats(now)


def _stats_key(now: datetime, **_: object) -> str:
    return "all"


class LogQueries:
    """The log read handlers, bound to the reads and the cache: what resolvers and the export
    route call.

    Stats scan every row (~0.3 s over a million on PostgreSQL): a dashboard polling them gets
    one scan per `stats_ttl` seconds per deployment. Nothing evicts them: logs only grow, and a
    count a few seconds old is what a dashboard shows anyway.
    """

    def __init__(self, reads: LogReads, cache: Cache | None, *, stats_ttl: float) -> None:
        self.reads = reads
        self.cache = cache
        self._stats = cached(LOG_STATS, stats_ttl, key=_stats_key, decode=decoder(LogStats))(
            log_stats
        )

    async def page(self, f: LogFilter, first: int, after: LogAfter | None) -> LogPage:
        return await self.reads.page(f, first, after)

    async def count(self, f: LogFilter) -> int:
        return await self.reads.count(f)

    async def stats(self, now: datetime) -> LogStats:
        return await self._stats(now, reads=self.reads, cache=self.cache)

    def batches(self, f: LogFilter, size: int) -> AsyncIterator[list[LogView]]:
        return self.reads.batches(f, size)
