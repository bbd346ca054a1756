"""What every feature slice is built on: engines, cache, broker, the actor registry, the outbox
relay, the unit of work and the vendor adapters, built once per process from Settings."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import partial
from typing import Any

import dramatiq
from dramatiq.brokers.redis import RedisBroker
from sqlalchemy.ext.asyncio import AsyncEngine

from app.actors import actor_registry
from app.auth.ports import KeyUsage
from app.contacts.ports import ContactSync
from app.idempotency import IdempotencyPolicy
from app.jobs import ActorSpec, JobPolicy
from app.live import Feed
from app.logs.ports import BusinessLog
from app.notifications.ports import Messaging
from app.ports import Cache, OrderReads, UnitOfWorkFactory
from app.workflows.ports import WorkflowReads
from infrastructure.cache.memory import MemoryCache
from infrastructure.cache.redis import RedisCache, redis_client
from infrastructure.db.engine import create_engine
from infrastructure.db.uow import SqlUnitOfWork
from infrastructure.live.memory import MemoryLive
from infrastructure.live.redis import RedisLive
from infrastructure.metrics import PrometheusMetrics
from infrastructure.queue.broker import create_broker
from infrastructure.queue.metrics import queue_depths
from infrastructure.queue.relay import OutboxRelay
from infrastructure.shared_lookups import SharedLookups
from visapi.settings import Settings
from visapi.vendors import Vendors, build_vendors

Closer = Callable[[], Awaitable[None]]


def utcnow() -> datetime:
    return datetime.now(UTC)


def idempotency_policy(settings: Settings) -> IdempotencyPolicy:
    """How long an idempotency key answers a repeat, and how long a repeat waits for the first."""
    return IdempotencyPolicy(
        ttl_s=settings.idempotency_ttl_s,
        wait_s=settings.idempotency_wait_s,
        reclaim_after_s=settings.idempotency_reclaim_s,
    )


@dataclass
class Replacements:
    """Adapters a caller passes in instead of the built ones: in-memory fakes in unit tests,
    scripted vendors in integration tests, the API's cache and metrics for its embedded worker."""

    cache: Cache | None = None
    broker: dramatiq.Broker | None = None
    uow: UnitOfWorkFactory | None = None
    order_reads: OrderReads | None = None
    workflow_reads: WorkflowReads | None = None
    business_log: BusinessLog | None = None
    contacts: ContactSync | None = None
    messaging: Messaging | None = None
    metrics: PrometheusMetrics | None = None
    live: MemoryLive | RedisLive | None = None
    # The API's in-memory key usage, for its embedded worker's flush (maintenance jobs).
    key_usage: KeyUsage | None = None


@dataclass
class Platform:
    settings: Settings
    engine: AsyncEngine
    # The query side's engine: the replica when VISAPI_READ_DATABASE_URL is set, else `engine`.
    read_engine: AsyncEngine
    cache: Cache
    redis: Any  # the asyncio Redis client, None in embedded mode
    metrics: PrometheusMetrics
    broker: dramatiq.Broker
    registry: dict[str, ActorSpec]
    relay: OutboxRelay
    # Live notices (app.live): published after commits, heard by this process's subscribers.
    live: MemoryLive | RedisLive
    uow: UnitOfWorkFactory
    vendors: Vendors
    replaced: Replacements
    now: Callable[[], datetime] = utcnow
    new_id: Callable[[], uuid.UUID] = uuid.uuid4
    closers: list[Closer] = field(default_factory=list)


def build_platform(
    settings: Settings,
    jobs_for: JobPolicy,
    replaced: Replacements,
    now: Callable[[], datetime] = utcnow,
) -> Platform:
    """Opens no connection: engines and clients connect lazily, on the loop that uses them."""
    metrics = replaced.metrics or PrometheusMetrics()
    engine = create_engine(settings.database_url, pool_size=settings.db_pool_size)
    read_engine = engine
    closers: list[Closer] = [engine.dispose]
    if settings.read_database_url:
        read_engine = create_engine(settings.read_database_url, pool_size=settings.db_pool_size)
        closers.append(read_engine.dispose)

    redis, cache = None, replaced.cache
    if cache is None:
        if settings.redis_url:
            redis = redis_client(settings.redis_url)
            closers.append(redis.aclose)
            cache = RedisCache(redis, namespace=settings.redis_namespace, metrics=metrics)
        else:
            cache = MemoryCache(metrics=metrics)

    live = replaced.live
    if live is None:
        if redis is not None and settings.redis_url:
            live = RedisLive(
                redis,
                url=settings.redis_url,
                channel=f"{settings.redis_namespace}:live",
                buffer=settings.subscription_buffer,
                metrics=metrics,
            )
        else:
            live = MemoryLive(buffer=settings.subscription_buffer, metrics=metrics)
        closers.append(live.aclose)
    feed: Feed = live

    registry = actor_registry(settings)
    broker = replaced.broker or create_broker(settings, metrics)
    if isinstance(broker, RedisBroker):
        # cacheStats over every process on every host, workers included (shared_lookups.py).
        metrics.share_lookups(SharedLookups(broker.client, settings.redis_namespace))
    metrics.watch_queues(partial(queue_depths, broker))
    pools = {"primary": engine} | ({"replica": read_engine} if read_engine is not engine else {})
    metrics.watch_pools(lambda: pools)
    relay = OutboxRelay(engine, broker, registry)
    closers.append(relay.flush)  # closers run last first: publish what is pending, then dispose
    # SqlUnitOfWork's repositories are the SQL adapters, which mypy cannot match to the
    # UnitOfWork protocol's attributes through partial().
    sql_uow: Any = partial(
        SqlUnitOfWork,
        engine,
        jobs_for=jobs_for,
        registry=registry,
        after_commit=[relay.publish_committed],
        feed=feed,
    )
    uow: UnitOfWorkFactory = replaced.uow or sql_uow
    vendors = build_vendors(
        settings,
        engine,
        closers,
        contacts=replaced.contacts,
        messaging=replaced.messaging,
        metrics=metrics,
        redis=redis,
    )
    return Platform(
        settings=settings,
        engine=engine,
        read_engine=read_engine,
        cache=cache,
        redis=redis,
        metrics=metrics,
        broker=broker,
        registry=registry,
        relay=relay,
        live=live,
        uow=uow,
        vendors=vendors,
        replaced=replaced,
        now=now,
        closers=closers,
    )
