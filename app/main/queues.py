"""Wiring of the queues slice: dead letter reads and replays, and the queue gauges."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from functools import partial
from typing import Any

import dramatiq
from sqlalchemy.ext.asyncio import AsyncEngine

from app.bus import CommandHandler
from app.jobs import ActorSpec
from app.main.settings import Settings
from app.ports import UnitOfWorkFactory
from app.queues.commands import ReplayFailedJob, ReplayFailedJobs
from app.queues.handlers import replay_failed_job, replay_failed_jobs
from app.queues.queries import QueueQueries
from infrastructure.cache.redis import redis_client
from infrastructure.db.failed_jobs import SqlFailedJobReads
from infrastructure.queue.gauges import queue_gauges


@dataclass
class Queues:
    queries: QueueQueries
    commands: dict[type, CommandHandler]
    closers: list[Callable[[], Awaitable[None]]]


def build_queues(
    settings: Settings,
    *,
    read_engine: AsyncEngine,
    broker: dramatiq.Broker,
    redis: Any,
    registry: Mapping[str, ActorSpec],
    uow: UnitOfWorkFactory,
    now: Callable[[], datetime],
) -> Queues:
    closers: list[Callable[[], Awaitable[None]]] = []
    if redis is None and settings.redis_url:
        # A container given its own cache still reads the shared broker's keys.
        redis = redis_client(settings.redis_url)
        closers.append(redis.aclose)
    gauges = queue_gauges(broker, settings.redis_namespace, redis)
    commands: dict[type, CommandHandler] = {
        ReplayFailedJob: partial(replay_failed_job, uow=uow, registry=registry, now=now),
        ReplayFailedJobs: partial(replay_failed_jobs, uow=uow, registry=registry, now=now),
    }
    return Queues(
        queries=QueueQueries(SqlFailedJobReads(read_engine), gauges),
        commands=commands,
        closers=closers,
    )
