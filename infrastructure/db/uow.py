"""The unit of work: one transaction that stores a change, its domain events and their jobs."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from types import TracebackType
from typing import Any, Self

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from app import context as app_context
from app.errors import Unavailable
from app.jobs import ActorSpec, Job, check_jobs
from app.live import Feed, Notice, notices_of
from app.ports import OrderAlreadyExists
from domain.events import DomainEvent
from infrastructure.db.access import SqlApiKeys, SqlUsers
from infrastructure.db.batch_insert import insert_all
from infrastructure.db.bulk import SqlBulkOperations
from infrastructure.db.contact_syncs import SqlContactSyncs
from infrastructure.db.documents import SqlDocuments
from infrastructure.db.engine import SQLITE_BEGIN
from infrastructure.db.failed_jobs import SqlFailedJobs
from infrastructure.db.logs import SqlUnitLogs, log_notice
from infrastructure.db.message_texts import SqlMessageTexts
from infrastructure.db.notifications import SqlNotifications
from infrastructure.db.orders import SqlOrders, SqlWebhookPayloads
from infrastructure.db.outages import unreachable
from infrastructure.db.privacy import SqlErasure
from infrastructure.db.tables import events as events_table
from infrastructure.db.tables import logs, orders, outbox, webhook_payloads
from infrastructure.db.workflows import SqlWorkflowRuns, SqlWorkflows

log = logging.getLogger("visapi.uow")

DATABASE_AWAY = "The database is unavailable; retry later"


@dataclass(frozen=True)
class OutboxMessage:
    """A job as written to the outbox; its row id is the broker message id (dedup on replay)."""

    id: uuid.UUID
    job: Job
    correlation_id: str | None


AfterCommit = Callable[[list[DomainEvent], list[OutboxMessage]], Awaitable[None]]


class SqlUnitOfWork:
    def __init__(
        self,
        engine: AsyncEngine,
        *,
        jobs_for: Callable[[Any], list[Job]],
        registry: Mapping[str, ActorSpec],
        after_commit: Sequence[AfterCommit] = (),
        feed: Feed | None = None,
        actor: str | None = None,
        correlation_id: str | None = None,
    ) -> None:
        self._engine = engine
        self._jobs_for = jobs_for
        self._registry = registry
        self._after_commit = after_commit
        self._feed = feed
        self._announced: list[Notice] = []
        self.actor = actor
        # A job's units carry the id of the request that caused it (the worker sets it per
        # message): its events, outbox rows (the next hop) and log lines keep it.
        self.correlation_id = correlation_id or app_context.correlation_id.get()
        self._conn: AsyncConnection | None = None
        # Each recorded event with the correlation id current when it was recorded: a grouped
        # job's unit records for several messages, each under its own id (app/groups.py).
        self._recorded: list[tuple[DomainEvent, str | None]] = []

    async def __aenter__(self) -> Self:
        try:
            conn = await self._engine.connect()
        except Exception as exc:
            if unreachable(exc, connecting=True):
                raise Unavailable(DATABASE_AWAY) from exc
            raise
        if self._engine.dialect.name == "sqlite":
            conn = await conn.execution_options(**{SQLITE_BEGIN: "IMMEDIATE"})
            await conn.begin()
        # PostgreSQL: the transaction begins with the unit's first statement (SQLAlchemy's
        # autobegin), so a commit can tell that nothing ran before it (insert_all's `alone`).
        self._conn = conn
        self.orders = SqlOrders(conn)
        self.payloads = SqlWebhookPayloads(conn)
        self.api_keys = SqlApiKeys(conn)
        self.users = SqlUsers(conn)
        self.contact_syncs = SqlContactSyncs(conn)
        self.notifications = SqlNotifications(conn)
        self.texts = SqlMessageTexts(conn)
        self.failed_jobs = SqlFailedJobs(conn)
        self.workflows = SqlWorkflows(conn)
        self.runs = SqlWorkflowRuns(conn)
        self.logs = SqlUnitLogs(self.correlation_id)
        self.documents = SqlDocuments(conn)
        self.bulk = SqlBulkOperations(conn)
        self.erasure = SqlErasure(conn)
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        try:
            if self._conn is not None:
                await self.rollback()
                await self._conn.close()
        except Exception as failed:
            # A connection that died with the database fails its rollback too: the error that
            # ended the unit says more.
            if exc is None or not unreachable(failed):
                raise
        finally:
            self._conn = None
        # The database went away mid-unit (a crash, a restart): a passing failure, which
        # callers answer with 503 and jobs retry, not an unexpected error (500).
        if exc is not None and not isinstance(exc, Unavailable) and unreachable(exc):
            raise Unavailable(DATABASE_AWAY) from exc

    @property
    def connection(self) -> AsyncConnection:
        if self._conn is None:
            raise RuntimeError("unit of work used outside `async with`")
        return self._conn

    def record(self, events: Sequence[Any]) -> None:
        correlation_id = self.correlation_id or app_context.correlation_id.get()
        self._recorded.extend((event, correlation_id) for event in events)

    def announce(self, notices: Sequence[Notice]) -> None:
        self._announced.extend(notices)

    async def commit(self) -> None:
        conn = self.connection
        recorded = [(e, self.correlation_id) for o in self.orders.added for e in o.events]
        recorded += self._recorded
        new_events = [event for event, _ in recorded]
        messages = [
            OutboxMessage(uuid.uuid4(), job, correlation_id)
            for event, correlation_id in recorded
            for job in self._jobs_for(event)
        ]
        check_jobs([m.job for m in messages], self._registry)
        # Nothing read or written yet: the rows can go in alone (batch_insert.py).
        alone = not conn.in_transaction()
        try:
            # Parents first; on PostgreSQL one statement for all of them (batch_insert.py).
            await insert_all(
                conn,
                [
                    (orders, self.orders.pending_rows()),
                    (webhook_payloads, self.payloads.pending_rows()),
                    (events_table, [self._event_row(e, c) for e, c in recorded]),
                    (outbox, [outbox_row(m, self._registry) for m in messages]),
                    (logs, self.logs.added),
                ],
                alone=alone,
            )
        except IntegrityError as exc:
            if "order_id" in str(exc.orig):
                raise OrderAlreadyExists(str(exc.orig)) from None
            raise
        await conn.commit()
        # Give the connection back before the hooks: the outbox relay needs one of its own,
        # and with every pooled connection held by a unit waiting in its hooks, none would
        # come free (the pool deadlocked at 50 concurrent createOrder under load).
        await conn.close()
        self._conn = None
        lines = list(self.logs.added)
        self.orders.added.clear()
        self.payloads.added.clear()
        self.logs.added.clear()
        self._recorded = []
        # Subscribers hear of the change before its jobs can run: an order's CREATED reaches
        # them before the CONTACT_SYNCED of the job this commit publishes next (the other way
        # round, the job ran and announced while the relay was still marking its row sent).
        notices = self._announced + notices_of(new_events) + [log_notice(r) for r in lines]
        self._announced = []
        if notices and self._feed is not None:
            await self._feed.publish(notices)  # never raises: a lost notice is only logged
        for hook in self._after_commit:
            try:
                await hook(new_events, messages)
            except Exception:
                # The change is durable; the sweeper publishes what the fast path could not.
                log.exception("after-commit hook %s failed", hook)

    async def rollback(self) -> None:
        if self._conn is not None and self._conn.in_transaction():
            await self._conn.rollback()

    def _event_row(self, event: DomainEvent, correlation_id: str | None) -> dict[str, Any]:
        return {
            "id": uuid.uuid4(),
            "type": event.type,
            "aggregate_type": event.aggregate_type,
            "aggregate_id": event.aggregate_id,
            "payload": event.payload(),
            "actor": event.actor or self.actor,
            "correlation_id": correlation_id,
            "occurred_at": event.occurred_at,
        }


def outbox_row(m: OutboxMessage, registry: Mapping[str, ActorSpec]) -> dict[str, Any]:
    return {
        "id": m.id,
        "actor": m.job.actor,
        "arguments": dict(m.job.arguments),
        "queue": registry[m.job.actor].queue.value,  # checked by check_jobs
        "correlation_id": m.correlation_id,
        "created_at": datetime.now(UTC),
    }
