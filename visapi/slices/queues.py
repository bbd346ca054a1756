"""The queues slice: dead letter reads and replays, and the queue gauges."""

from __future__ import annotations

from functools import partial

from app.queues.commands import ReplayFailedJob, ReplayFailedJobs
from app.queues.handlers import replay_failed_job, replay_failed_jobs
from app.queues.policies import JOB_POLICIES as JOBS
from app.queues.queries import QueueQueries
from infrastructure.cache.redis import redis_client
from infrastructure.db.failed_jobs import SqlFailedJobReads
from infrastructure.queue.gauges import queue_gauges
from visapi.platform import Closer, Platform
from visapi.slices import Slice

__all__ = ["JOBS", "build"]


def build(p: Platform) -> Slice[QueueQueries]:
    closers: list[Closer] = []
    redis = p.redis
    if redis is None and p.settings.redis_url:
        # A container given its own cache still reads the shared broker's keys.
        redis = redis_client(p.settings.redis_url)
        closers.append(redis.aclose)
    gauges = queue_gauges(p.broker, p.settings.redis_namespace, redis)
    uow, registry, now = p.uow, p.registry, p.now
    return Slice(
        QueueQueries(SqlFailedJobReads(p.read_engine), gauges),
        {
            ReplayFailedJob: partial(replay_failed_job, uow=uow, registry=registry, now=now),
            ReplayFailedJobs: partial(replay_failed_jobs, uow=uow, registry=registry, now=now),
        },
        closers,
    )
