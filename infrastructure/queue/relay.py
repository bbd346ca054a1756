"""The outbox relay: publish committed outbox rows to the broker (fast path) and sweep leftovers.

Delivery is at least once: a row is marked published after the broker accepted its message,
so a crash in between publishes it again from the sweeper. The message id is the outbox row
id, and consumers are idempotent (e.g. `sync_contact` checks its row), so a repeat is harmless.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import AsyncIterator, Mapping, Sequence
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

import dramatiq
from dramatiq.brokers.stub import StubBroker
from sqlalchemy import insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from app.jobs import ActorSpec, Job, check_jobs
from infrastructure.db.engine import SQLITE_BEGIN
from infrastructure.db.tables import outbox
from infrastructure.db.uow import OutboxMessage, outbox_row

log = logging.getLogger("visapi.relay")

SWEEP_LIMIT = 500
SWEEP_AGE_S = 5.0
PUBLISH_BATCH = 500


def to_message(
    row_id: UUID, actor: str, queue: str, arguments: Mapping[str, Any], corr: str | None
) -> dramatiq.Message[Any]:
    """The broker message of an outbox row: its id is the row id, its arguments the row's."""
    options = {"correlation_id": corr} if corr else {}
    return dramatiq.Message(
        queue_name=queue,
        actor_name=actor,
        args=(),
        kwargs=dict(arguments),
        options=options,
        message_id=str(row_id),
    )


class OutboxRelay:
    def __init__(
        self, engine: AsyncEngine, broker: dramatiq.Broker, registry: Mapping[str, ActorSpec]
    ) -> None:
        self._engine = engine
        self._broker = broker
        self._registry = registry
        # Marking what the fast path published is one UPDATE, atomic by itself: on PostgreSQL it
        # runs without BEGIN/COMMIT, two round trips fewer per order that writes a job.
        self._single = (
            engine.execution_options(isolation_level="AUTOCOMMIT")
            if engine.dialect.name == "postgresql"
            else None
        )
        # The in-memory broker has no round trip to amortise: its rows are published inline,
        # so a job is on its queue when the request returns (embedded mode, tests that join).
        self._inline = isinstance(broker, StubBroker)
        # Committed rows waiting for the fast path, and the one task publishing them.
        self._pending: list[OutboxMessage] = []
        self._flusher: asyncio.Task[None] | None = None

    async def publish_committed(self, events: Sequence[Any], messages: list[OutboxMessage]) -> None:
        """After-commit hook of the unit of work: have its rows published now, not in 5 s.

        The request does not wait for the broker: its rows join a queue that one background
        task publishes in batches (one thread hop and one UPDATE per batch, however many
        requests committed meanwhile). Under load this turns two round trips per order into two
        per batch; if the process dies first, the rows are still in the outbox for the sweeper.
        """
        if not messages:
            return
        if self._inline:
            await self._publish(messages)
            return
        self._pending.extend(messages)
        if self._flusher is None or self._flusher.done():
            self._flusher = asyncio.create_task(self._flush_pending())

    async def flush(self) -> None:
        """Wait until every committed row handed to the fast path has been tried (shutdown,
        tests)."""
        while self._flusher is not None and not self._flusher.done():
            await asyncio.shield(self._flusher)

    async def _flush_pending(self) -> None:
        while self._pending:
            batch = self._pending[:PUBLISH_BATCH]
            del self._pending[:PUBLISH_BATCH]
            try:
                await self._publish(batch)
            except Exception:
                # Left unpublished (or published but unmarked): the sweeper takes them over.
                log.exception("fast path could not publish %d outbox row(s)", len(batch))

    async def _publish(self, messages: list[OutboxMessage]) -> None:
        published = await self._enqueue(
            [
                to_message(m.id, m.job.actor, self._queue(m.job), m.job.arguments, m.correlation_id)
                for m in messages
            ]
        )
        if not published:
            return
        if self._single is None:
            async with self._transaction() as conn:
                await self._mark_published(conn, published)
            return
        async with self._single.connect() as conn:
            await self._mark_published(conn, published)

    async def add(self, jobs: Sequence[Job], *, correlation_id: str | None) -> int:
        """Implements `JobOutbox`: jobs caused by no new change (a replay), stored then published
        as the unit of work's are; a publish that fails is left to the sweeper."""
        check_jobs(list(jobs), self._registry)
        messages = [OutboxMessage(uuid.uuid4(), job, correlation_id) for job in jobs]
        if not messages:
            return 0
        async with self._transaction() as conn:
            await conn.execute(insert(outbox), [outbox_row(m, self._registry) for m in messages])
        await self.publish_committed((), messages)
        await self.flush()
        return len(messages)

    async def sweep(self, limit: int = SWEEP_LIMIT, older_than_s: float = SWEEP_AGE_S) -> int:
        """Publish unpublished rows older than `older_than_s`, oldest first; return how many.

        PostgreSQL: rows are locked FOR UPDATE SKIP LOCKED until marked, so concurrent
        sweepers share the backlog without publishing a row twice. SQLite: BEGIN IMMEDIATE
        holds the database write lock for the sweep, so sweepers run one at a time.
        """
        cutoff = datetime.now(UTC) - timedelta(seconds=older_than_s)
        query = (
            select(
                outbox.c.id,
                outbox.c.actor,
                outbox.c.queue,
                outbox.c.arguments,
                outbox.c.correlation_id,
            )
            .where(outbox.c.published_at.is_(None), outbox.c.created_at < cutoff)
            .order_by(outbox.c.created_at)
            .limit(limit)
        )
        if self._engine.dialect.name == "postgresql":
            query = query.with_for_update(skip_locked=True)
        async with self._transaction() as conn:
            rows = (await conn.execute(query)).all()
            if not rows:
                return 0
            for r in rows:
                if r.actor not in self._registry:
                    # Still published: the worker dead-letters it where operators can see it.
                    log.error("outbox row %s names unknown actor %r", r.id, r.actor)
            published = await self._enqueue(
                [to_message(r.id, r.actor, r.queue, r.arguments, r.correlation_id) for r in rows]
            )
            if published:
                await self._mark_published(conn, published)
        if published:
            log.info("outbox sweep published %d of %d stale rows", len(published), len(rows))
        return len(published)

    async def unpublish(self, message_ids: Sequence[str]) -> int:
        """Mark rows unpublished again (their messages were lost with an in-memory broker)."""
        ids = [UUID(i) for i in message_ids if _is_uuid(i)]
        if not ids:
            return 0
        async with self._transaction() as conn:
            result = await conn.execute(
                update(outbox)
                .where(outbox.c.id.in_(ids), outbox.c.published_at.is_not(None))
                .values(published_at=None)
            )
        return result.rowcount

    def _queue(self, job: Job) -> str:
        return self._registry[job.actor].queue.value  # checked by check_jobs before storing

    async def _enqueue(self, messages: list[dramatiq.Message[Any]]) -> list[UUID]:
        """Enqueue in order, stopping at the first broker error; return the ids accepted."""

        def send() -> list[UUID]:
            done: list[UUID] = []
            for message in messages:
                try:
                    self._broker.enqueue(message)
                except Exception:
                    # The rows stay unpublished; the sweeper retries them.
                    log.exception("broker refused outbox message %s", message.message_id)
                    break
                done.append(UUID(message.message_id))
            return done

        # Dramatiq's enqueue is blocking I/O on Redis: one thread hop per batch keeps the
        # event loop free (the hop costs tens of microseconds; a commit costs milliseconds).
        return await asyncio.to_thread(send)

    async def _mark_published(self, conn: AsyncConnection, ids: list[UUID]) -> None:
        await conn.execute(
            update(outbox).where(outbox.c.id.in_(ids)).values(published_at=datetime.now(UTC))
        )

    @asynccontextmanager
    async def _transaction(self) -> AsyncIterator[AsyncConnection]:
        async with self._engine.connect() as conn:
            if conn.dialect.name == "sqlite":
                # Take the write lock at BEGIN: one sweeper at a time, no lock-upgrade failure.
                await conn.execution_options(**{SQLITE_BEGIN: "IMMEDIATE"})
            async with conn.begin():
                yield conn


def _is_uuid(value: str) -> bool:
    try:
        UUID(value)
    except ValueError:
        return False
    return True
