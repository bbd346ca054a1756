"""Read handlers of the queues: dead letters page by page, and statistics per queue."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass

from app.auth.ports import After, Page
from app.jobs import Queue
from app.queues.ports import (
    FailedJobFilter,
    FailedJobReads,
    FailedJobView,
    QueueGauges,
    Throughput,
)

QUEUES = tuple(q.value for q in Queue)
MINUTE_S = 60
FIVE_MINUTES_S = 300


@dataclass(frozen=True, slots=True)
class QueueStatsView:
    queue: str
    ready: int
    delayed: int
    in_flight: int
    failed: int  # dead letters not replayed yet
    last_minute: Throughput
    last_five_minutes: Throughput


class QueueQueries:
    """What `failedJobs` and `queueStats` read; no cache: operators want the state now."""

    def __init__(
        self,
        reads: FailedJobReads,
        gauges: QueueGauges,
        queues: Sequence[str] = QUEUES,
    ) -> None:
        self._reads = reads
        self._gauges = gauges
        self._queues = tuple(queues)

    async def failed_jobs(
        self, where: FailedJobFilter, first: int, after: After | None
    ) -> Page[FailedJobView]:
        return await self._reads.page(where, first, after)

    async def count_failed_jobs(self, where: FailedJobFilter) -> int:
        return await self._reads.count(where)

    async def stats(self) -> list[QueueStatsView]:
        depths, failed, minute, five = await asyncio.gather(
            self._gauges.depths(self._queues),
            self._reads.unreplayed_by_queue(),
            self._gauges.throughput(MINUTE_S, self._queues),
            self._gauges.throughput(FIVE_MINUTES_S, self._queues),
        )
        return [
            QueueStatsView(
                queue=q,
                ready=depths[q].ready,
                delayed=depths[q].delayed,
                in_flight=depths[q].in_flight,
                failed=failed.get(q, 0),
                last_minute=minute[q],
                last_five_minutes=five[q],
            )
            for q in self._queues
        ]
