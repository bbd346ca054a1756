"""The logs slice: business log reads (pages, counts, cached stats, export batches)."""

from __future__ import annotations

from collections.abc import Mapping

from app.jobs import JobPolicy
from app.logs.queries import LogQueries
from infrastructure.db.logs import SqlLogReads
from visapi.platform import Platform
from visapi.slices import Slice

JOBS: Mapping[type, JobPolicy] = {}


def build(p: Platform) -> Slice[LogQueries]:
    reads = SqlLogReads(p.read_engine)
    return Slice(LogQueries(reads, p.cache, stats_ttl=p.settings.cache_log_stats_ttl_s), {})
