"""Wiring: build engines, cache, broker, bus and read handlers from Settings, once per process."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import partial
from typing import Any

import dramatiq
from sqlalchemy.ext.asyncio import AsyncEngine

from app.actors import actor_registry
from app.bus import MessageBus
from app.contacts.commands import SyncContact
from app.contacts.handlers import sync_contact
from app.contacts.ports import ContactSync
from app.jobs import ActorSpec, Job
from app.main.access import Access, build_access
from app.main.settings import Settings
from app.main.workflows import WorkflowSlice, build_workflows
from app.notifications.ports import Messaging
from app.orders.commands import CreateOrder, MarkOrdersProcessed
from app.orders.handlers import create_order, mark_orders_processed
from app.orders.policies import jobs_for as order_jobs
from app.orders.queries import OrderQueries, bind_order_queries
from app.ports import Cache, OrderReads, UnitOfWorkFactory
from app.workflows.policies import jobs_for as workflow_jobs
from infrastructure.cache.memory import MemoryCache
from infrastructure.cache.redis import RedisCache, redis_client
from infrastructure.db.contact_syncs import contact_sync_units
from infrastructure.db.engine import create_engine
from infrastructure.db.order_reads import SqlOrderReads
from infrastructure.db.uow import SqlUnitOfWork
from infrastructure.queue.broker import create_broker
from infrastructure.queue.relay import OutboxRelay
from infrastructure.vendors.sandbox import SandboxContactSync


def utcnow() -> datetime:
    return datetime.now(UTC)


def jobs_for(event: Any) -> list[Job]:
    """The jobs an event causes, written to the outbox with it (policies per context)."""
    return order_jobs(event) + workflow_jobs(event)


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
    workflows: WorkflowSlice
    redis: Any = None
    contacts: ContactSync | None = None
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
    now: Callable[[], datetime] = utcnow,
) -> Container:
    """Compose the application. Opens no connection: engines and clients connect lazily.

    Unit tests pass in-memory `uow` and `reads` fakes; everything else is built from settings.
    """
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
            cache = RedisCache(redis, namespace=settings.redis_namespace)
        else:
            cache = MemoryCache()

    registry = actor_registry(settings)
    broker = broker or create_broker(settings)
    relay = OutboxRelay(engine, broker, registry)

    # In-process event handlers run after commit (DESIGN.md "The flow of a request"); the bus
    # is built below, so the hook finds it through this cell.
    bus_cell: list[MessageBus] = []

    async def publish_events(events: Sequence[Any], messages: Sequence[Any]) -> None:
        if bus_cell and events:
            await bus_cell[0].publish(events)

    if uow is None:
        uow = partial(  # type: ignore[assignment]
            SqlUnitOfWork,
            engine,
            jobs_for=jobs_for,
            registry=registry,
            after_commit=[relay.publish_committed, publish_events],
        )
    assert uow is not None
    # The CBB adapter replaces the sandbox when VISAPI_CBB_BASE_URL is set (later issue).
    contacts = contacts or SandboxContactSync()
    new_id = uuid.uuid4
    access = build_access(
        settings, engine=engine, cache=cache, redis=redis, uow=uow, now=now, new_id=new_id
    )
    workflows = build_workflows(
        settings, engine=engine, cache=cache, uow=uow, now=now, new_id=new_id, messaging=messaging
    )
    closers += workflows.closers
    bus = MessageBus(
        commands={
            CreateOrder: partial(create_order, uow=uow, cache=cache, now=now, new_id=new_id),
            MarkOrdersProcessed: partial(mark_orders_processed, uow=uow, cache=cache, now=now),
            SyncContact: partial(
                sync_contact, syncs=contact_sync_units(engine), contacts=contacts, now=now
            ),
            **access.commands,
            **workflows.commands,
        },
        events=workflows.events,
    )
    bus_cell.append(bus)
    reads = reads or SqlOrderReads(read_engine)
    orders = bind_order_queries(
        reads,
        cache,
        order_ttl=settings.cache_order_ttl_s,
        stats_ttl=settings.cache_stats_ttl_s,
        unprocessed_ttl=settings.cache_unprocessed_ttl_s,
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
        workflows=workflows,
        redis=redis,
        contacts=contacts,
        closers=closers,
    )
