"""Wiring: build engines, cache, broker, bus and read handlers from Settings, once per process."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import partial
from typing import Any

import dramatiq
from sqlalchemy.ext.asyncio import AsyncEngine

from app.actors import actor_registry
from app.bus import MessageBus
from app.cache_admin import CacheStats, FlushCache, WarmCache, cache_stats, flush_cache, warm_cache
from app.contacts.commands import ResyncContact, SyncContact
from app.contacts.handlers import resync_contact, sync_contact
from app.contacts.ports import ContactSync
from app.idempotency import Idempotency
from app.jobs import ActorSpec, jobs_by_policy
from app.logs.ports import BusinessLog
from app.logs.queries import LogQueries, bind_log_queries
from app.main.access import Access, build_access
from app.main.queues import build_queues
from app.main.settings import Settings
from app.main.vendors import build_vendors
from app.main.workflows import WorkflowSlice, build_workflows
from app.notifications.commands import RecordSent, ResendConfirmation, SendNotification
from app.notifications.deliveries import RecordDeliveryEvents, record_delivery_events
from app.notifications.handlers import send_notification
from app.notifications.ports import Messaging
from app.notifications.recording import record_notification_sent
from app.notifications.resend import resend_confirmation
from app.orders.archive import ArchiveBody, archive_body
from app.orders.commands import CreateOrder, MarkOrdersProcessed, RetriggerOrder
from app.orders.handlers import create_order, mark_orders_processed
from app.orders.policies import JOB_POLICIES as ORDER_JOB_POLICIES
from app.orders.queries import OrderQueries, bind_order_queries
from app.orders.retrigger import retrigger_order
from app.ports import Cache, OrderReads, UnitOfWorkFactory
from app.queues.policies import JOB_POLICIES as QUEUE_JOB_POLICIES
from app.queues.queries import QueueQueries
from app.replay import ReplayEvents, replay_events
from app.sandbox import SandboxRecords
from app.workflows.policies import JOB_POLICIES as WORKFLOW_JOB_POLICIES
from app.workflows.ports import WorkflowReads
from infrastructure.cache.memory import MemoryCache
from infrastructure.cache.redis import RedisCache, redis_client
from infrastructure.db.deliveries import SqlDeliveries
from infrastructure.db.engine import create_engine
from infrastructure.db.event_log import SqlEventLog
from infrastructure.db.idempotency import SqlIdempotency
from infrastructure.db.logs import SqlBusinessLog, SqlLogReads
from infrastructure.db.order_reads import SqlOrderReads
from infrastructure.db.sandbox_reads import SqlSandboxRecords
from infrastructure.db.uow import SqlUnitOfWork
from infrastructure.metrics import PrometheusMetrics
from infrastructure.queue.broker import create_broker
from infrastructure.queue.jobs import BrokerJobs
from infrastructure.queue.metrics import queue_depths
from infrastructure.queue.relay import OutboxRelay

# The share of a job's time limit that send_notification may spend recording a sent message.
RECORD_SHARE = 0.8


def utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass
class Container:
    """Everything a process needs, built by `bootstrap`; closed by `aclose`."""

    settings: Settings
    engine: AsyncEngine
    read_engine: AsyncEngine
    cache: Cache
    bus: MessageBus
    orders: OrderQueries
    registry: dict[str, ActorSpec]
    broker: dramatiq.Broker
    relay: OutboxRelay
    uow: UnitOfWorkFactory
    access: Access
    contacts: ContactSync
    messaging: Messaging
    sandbox_records: SandboxRecords
    queues: QueueQueries
    idempotency: Idempotency
    metrics: PrometheusMetrics
    business_log: BusinessLog
    logs: LogQueries
    workflows: WorkflowSlice
    redis: Any = None
    # Adapters passed to bootstrap, which the embedded worker's container shares (vendors.py).
    given_vendors: dict[str, Any] = field(default_factory=dict)
    closers: list[Callable[[], Awaitable[None]]] = field(default_factory=list)

    async def aclose(self) -> None:
        for close in reversed(self.closers):
            await close()
        self.closers.clear()


def bootstrap(
    settings: Settings,
    *,
    cache: Cache | None = None,
    broker: dramatiq.Broker | None = None,
    uow: UnitOfWorkFactory | None = None,
    reads: OrderReads | None = None,
    contacts: ContactSync | None = None,
    messaging: Messaging | None = None,
    metrics: PrometheusMetrics | None = None,
    business_log: BusinessLog | None = None,
    workflow_reads: WorkflowReads | None = None,
    now: Callable[[], datetime] = utcnow,
) -> Container:
    """Compose the application. Opens no connection: engines and clients connect lazily.

    Unit tests pass in-memory `uow`, `reads`, `workflow_reads` and `business_log` fakes;
    everything else is built from settings. The app passes its `metrics` (its /metrics route
    exists before the lifespan bootstraps), and the embedded worker the API's, so both count
    into the one registry that is scraped.
    """
    metrics = metrics or PrometheusMetrics()
    engine = create_engine(settings.database_url, pool_size=settings.db_pool_size)
    read_engine = (
        create_engine(settings.read_database_url, pool_size=settings.db_pool_size)
        if settings.read_database_url
        else engine
    )
    closers: list[Callable[[], Awaitable[None]]] = [engine.dispose]
    if read_engine is not engine:
        closers.append(read_engine.dispose)

    redis = None
    if cache is None:
        if settings.redis_url:
            redis = redis_client(settings.redis_url)
            closers.append(redis.aclose)
            cache = RedisCache(redis, namespace=settings.redis_namespace, metrics=metrics)
        else:
            cache = MemoryCache(metrics=metrics)

    registry = actor_registry(settings)
    broker = broker or create_broker(settings, metrics)
    metrics.watch_queues(partial(queue_depths, broker))
    relay = OutboxRelay(engine, broker, registry)
    closers.append(relay.flush)  # closers run last first: publish what is pending, then dispose

    jobs_for = jobs_by_policy({**ORDER_JOB_POLICIES, **QUEUE_JOB_POLICIES, **WORKFLOW_JOB_POLICIES})
    # No in-process event handler is registered, so no after-commit hook runs the bus: what an
    # order starts (its workflows) is written in its own transaction (app/workflows/orders.py).
    if uow is None:
        uow = partial(  # type: ignore[assignment]
            SqlUnitOfWork,
            engine,
            jobs_for=jobs_for,
            registry=registry,
            after_commit=[relay.publish_committed],
        )
    assert uow is not None
    vendors = build_vendors(
        settings, engine, closers, contacts=contacts, messaging=messaging, metrics=metrics
    )
    new_id = uuid.uuid4
    # Handlers that tell operators what happened take this; it redacts before storing.
    business_log = business_log or SqlBusinessLog(engine, now=now)
    access = build_access(
        settings, engine=engine, cache=cache, redis=redis, uow=uow, now=now, new_id=new_id
    )
    queues = build_queues(
        settings,
        read_engine=read_engine,
        broker=broker,
        redis=redis,
        registry=registry,
        uow=uow,
        now=now,
    )
    closers.extend(queues.closers)
    workflows = build_workflows(
        settings,
        engine=engine,
        cache=cache,
        uow=uow,
        now=now,
        new_id=new_id,
        messaging=vendors.messaging,
        reads=workflow_reads,
        metrics=metrics,
    )
    closers += workflows.closers
    reads = reads or SqlOrderReads(read_engine)
    orders = bind_order_queries(
        reads,
        cache,
        order_ttl=settings.cache_order_ttl_s,
        stats_ttl=settings.cache_stats_ttl_s,
        unprocessed_ttl=settings.cache_unprocessed_ttl_s,
    )
    bus = MessageBus(
        commands={
            CreateOrder: partial(
                create_order,
                uow=uow,
                cache=cache,
                now=now,
                new_id=new_id,
                starts=workflows.order_starts,
            ),
            ArchiveBody: partial(archive_body, uow=uow, now=now, new_id=new_id),
            MarkOrdersProcessed: partial(mark_orders_processed, uow=uow, cache=cache, now=now),
            SyncContact: partial(
                sync_contact, uow=uow, contacts=vendors.contacts, now=now, new_id=new_id
            ),
            SendNotification: partial(
                send_notification,
                uow=uow,
                messaging=vendors.messaging,
                now=now,
                new_token=lambda: str(uuid.uuid4()),
                stale_claim_s=settings.notification_stale_claim_s,
                jobs=BrokerJobs(broker, registry),
                # Under the time limit, whose cancellation would cut the recording short.
                record_for_s=settings.job_time_limit_ms / 1000 * RECORD_SHARE,
            ),
            RecordSent: partial(record_notification_sent, uow=uow, now=now),
            ResyncContact: partial(resync_contact, uow=uow, now=now),
            ResendConfirmation: partial(resend_confirmation, uow=uow, now=now, new_id=new_id),
            RetriggerOrder: partial(
                retrigger_order, uow=uow, now=now, starts=workflows.order_starts
            ),
            RecordDeliveryEvents: partial(
                record_delivery_events, deliveries=SqlDeliveries(engine), now=now, new_id=new_id
            ),
            **access.commands,
            **queues.commands,
            **workflows.commands,
            CacheStats: partial(cache_stats, counts=metrics.cache_counts),
            FlushCache: partial(flush_cache, cache=cache),
            WarmCache: partial(warm_cache, orders=orders),
        },
        events={},
    )
    # Replay re-runs the bus's own event handlers, so it is bound to the bus once built.
    bus.commands[ReplayEvents] = partial(
        replay_events,
        events=SqlEventLog(engine),
        outbox=relay,
        jobs_for=jobs_for,
        publish=bus.publish,
    )
    return Container(
        settings=settings,
        engine=engine,
        read_engine=read_engine,
        cache=cache,
        bus=bus,
        orders=orders,
        registry=registry,
        broker=broker,
        relay=relay,
        uow=uow,
        access=access,
        queues=queues.queries,
        idempotency=SqlIdempotency(engine),
        metrics=metrics,
        business_log=business_log,
        logs=bind_log_queries(
            SqlLogReads(read_engine), cache, stats_ttl=settings.cache_log_stats_ttl_s
        ),
        workflows=workflows,
        redis=redis,
        contacts=vendors.contacts,
        messaging=vendors.messaging,
        sandbox_records=SqlSandboxRecords(read_engine),
        given_vendors=vendors.given,
        closers=closers,
    )
