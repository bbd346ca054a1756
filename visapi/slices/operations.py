"""The operations slice: cache stats, flush and warm-up, event replay, the sandbox records."""

from __future__ import annotations

from collections.abc import Mapping
from functools import partial

from app.cache_admin import CacheStats, FlushCache, WarmCache, cache_stats, flush_cache, warm_cache
from app.jobs import JobPolicy
from app.orders.queries import OrderQueries
from app.replay import ReplayEvents, replay_events
from app.sandbox import SandboxRecords
from app.workflows.queries import WorkflowQueries
from infrastructure.db.event_log import SqlEventLog
from infrastructure.db.sandbox_reads import SqlSandboxRecords
from visapi.platform import Platform
from visapi.slices import Slice

JOBS: Mapping[type, JobPolicy] = {}  # a replay's jobs are those its events' policies name


def build(
    p: Platform, *, orders: OrderQueries, workflows: WorkflowQueries, jobs_for: JobPolicy
) -> Slice[SandboxRecords]:
    return Slice(
        SqlSandboxRecords(p.read_engine),
        {
            CacheStats: partial(cache_stats, totals=p.metrics.lookup_totals),
            FlushCache: partial(flush_cache, cache=p.cache),
            WarmCache: partial(warm_cache, orders=orders, workflows=workflows),
            ReplayEvents: partial(
                replay_events, events=SqlEventLog(p.engine), outbox=p.relay, jobs_for=jobs_for
            ),
        },
    )
