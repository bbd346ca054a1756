"""The composition root: the platform, then the feature slices it lists, then one services
object; built once per process from Settings."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, fields
from datetime import datetime
from functools import partial
from typing import Any

from app.auth.access import Access
from app.bus import MessageBus
from app.contacts.ports import ContactSync
from app.idempotency import Idempotency
from app.jobs import jobs_by_policy
from app.logs.ports import BusinessLog
from app.maintenance import RunMaintenance, run_maintenance
from app.notifications.ports import Messaging
from app.orders.queries import OrderQueries
from app.queues.queries import QueueQueries
from app.services import Services
from app.workflows.commands import FireCronTriggers
from app.workflows.queries import WorkflowQueries
from infrastructure.db.idempotency import SqlIdempotency
from infrastructure.db.logs import SqlBusinessLog
from visapi.maintenance import system_jobs
from visapi.platform import Platform, Replacements, build_platform, idempotency_policy, utcnow
from visapi.settings import Settings
from visapi.slices import (
    Slice,
    access,
    bulk,
    contacts,
    documents,
    logs,
    notifications,
    operations,
    orders,
    privacy,
    queues,
)
from visapi.slices import workflows as workflow_slice

# Every feature, wired the same way (visapi/slices/__init__.py).
FEATURES = (
    orders,
    contacts,
    notifications,
    access,
    queues,
    workflow_slice,
    logs,
    operations,
    documents,
    bulk,
    privacy,
)
# The jobs each event causes, by the policies of the feature that owns them.
jobs_for = jobs_by_policy({e: p for f in FEATURES for e, p in f.JOBS.items()})


@dataclass(kw_only=True)
class Container(Platform):
    """A process's platform and the services built on it; `aclose` closes what both opened."""

    services: Services
    business_log: BusinessLog

    # The services by name, for the processes and the tests.
    @property
    def bus(self) -> MessageBus:
        return self.services.bus

    @property
    def access(self) -> Access:
        return self.services.access

    @property
    def orders(self) -> OrderQueries:
        return self.services.orders

    @property
    def workflows(self) -> WorkflowQueries:
        return self.services.workflows

    @property
    def queues(self) -> QueueQueries:
        return self.services.queues

    @property
    def idempotency(self) -> Idempotency:
        return self.services.idempotency

    @property
    def contacts(self) -> ContactSync:
        return self.vendors.contacts

    @property
    def messaging(self) -> Messaging:
        return self.vendors.messaging

    async def aclose(self) -> None:
        for close in reversed(self.closers):
            await close()
        self.closers.clear()


def bootstrap(
    settings: Settings,
    *,
    now: Callable[[], datetime] = utcnow,
    **replaced: Any,
) -> Container:
    """Compose the application. Opens no connection: engines and clients connect lazily.

    `replaced` names adapters to use instead of the built ones (visapi.platform.Replacements):
    unit tests pass in-memory fakes; the app passes its `metrics` (its /metrics route exists
    before the lifespan starts), and the embedded worker the API's cache and metrics.
    """
    p = build_platform(settings, jobs_for, Replacements(**replaced), now)
    workflows = workflow_slice.build(p)
    order_slice = orders.build(p, workflows=workflows.queries, jobs_for=jobs_for)
    slices: list[Slice[Any]] = [
        order_slice,
        contacts.build(p),
        notifications.build(p),
        access_slice := access.build(p),
        queue_slice := queues.build(p),
        workflows,
        log_slice := logs.build(p),
        ops := operations.build(
            p, orders=order_slice.queries, workflows=workflows.queries, jobs_for=jobs_for
        ),
        document_slice := documents.build(p),
        bulk_slice := bulk.build(p, workflows=workflows.queries),
        privacy_slice := privacy.build(p),
    ]
    commands = {kind: h for s in slices for kind, h in s.commands.items()}
    idempotency = SqlIdempotency(p.engine)
    tasks = system_jobs(
        p,
        flush_key_usage=access_slice.queries.flush_usage,
        purge_idempotency_keys=idempotency.purge,
        fire_cron=lambda: bus.handle(FireCronTriggers("maintenance")),  # the scheduler's own
    )
    commands[RunMaintenance] = partial(run_maintenance, tasks={t.name: t for t in tasks})
    bus = MessageBus(commands)
    services = Services(
        bus=bus,
        orders=order_slice.queries,
        logs=log_slice.queries,
        workflows=workflows.queries,
        queues=queue_slice.queries,
        sandbox_records=ops.queries,
        access=access_slice.queries,
        documents=document_slice.queries,
        bulk=bulk_slice.queries,
        privacy=privacy_slice.queries,
        idempotency=idempotency,
        idempotency_policy=idempotency_policy(settings),
    )
    # Handlers that tell operators what happened take this; it redacts before storing.
    business_log = p.replaced.business_log or SqlBusinessLog(p.engine, now=now, feed=p.live)
    platform = {f.name: getattr(p, f.name) for f in fields(Platform)}
    platform["closers"] = p.closers + [close for s in slices for close in s.closers]
    return Container(**platform, services=services, business_log=business_log)
