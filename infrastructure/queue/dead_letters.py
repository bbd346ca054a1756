"""Dead letters: a Dramatiq middleware that writes exhausted messages to `failed_jobs`."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import dramatiq
from dramatiq.asyncio import get_event_loop_thread
from dramatiq.middleware import Middleware
from sqlalchemy import insert
from sqlalchemy.ext.asyncio import AsyncEngine

from app.logs.ports import LogLevel
from infrastructure.db.logs import log_row
from infrastructure.db.tables import failed_jobs, logs
from infrastructure.queue.retries import attempts_of

log = logging.getLogger("visapi.dead_letters")

MAX_ERROR_CHARS = 2_000


@dataclass(frozen=True)
class FailedJob:
    message_id: str
    queue: str
    actor: str
    arguments: dict[str, Any]
    error: str
    attempts: int
    failed_at: datetime
    correlation_id: str | None = None


Writer = Callable[[FailedJob], Awaitable[None]]


def describe(exc: BaseException) -> str:
    """Exception type and message only: tracebacks carry paths and locals nobody should replay."""
    return f"{type(exc).__name__}: {exc}"[:MAX_ERROR_CHARS]


class DeadLetters(Middleware):
    """On a message Dramatiq has failed (retries exhausted, or a `throws` exception), store it.

    The write runs on Dramatiq's event loop thread with the worker's own async engine, bound by
    `bind()` when the worker starts: the worker already has a pool on that loop, so this rare
    path needs no second (sync) engine nor a sync PostgreSQL driver. Producer-only processes
    never fail messages and never bind. If the write fails, the message is still in the
    broker's dead-letter queue (Redis keeps it for `dead_message_ttl`) and the error is logged.
    """

    def __init__(self) -> None:
        self._writer: Writer | None = None

    def bind(self, writer: Writer | None) -> None:
        self._writer = writer

    def after_process_message(
        self,
        broker: dramatiq.Broker,
        message: dramatiq.broker.MessageProxy,
        *,
        result: Any = None,
        exception: BaseException | None = None,
    ) -> None:
        if exception is None or not message.failed:
            return
        job = FailedJob(
            message_id=message.message_id,
            queue=message.queue_name,
            actor=message.actor_name,
            # Our producers send keyword arguments only; positional ones are kept if present.
            arguments={**message.kwargs, **({"_args": list(message.args)} if message.args else {})},
            error=describe(exception),
            # Every attempt that raised was counted (retries or deferrals), this one included.
            attempts=attempts_of(message),
            failed_at=datetime.now(UTC),
            correlation_id=message.options.get("correlation_id"),
        )
        loop_thread = get_event_loop_thread()
        if self._writer is None or loop_thread is None:
            log.error("dead letter %s (%s) not stored: no writer bound", job.message_id, job.actor)
            return
        try:
            loop_thread.run_coroutine(self._writer(job))
        except Exception:
            log.exception("could not store dead letter %s (%s)", job.message_id, job.actor)
        else:
            log.warning("job %s (%s) failed for good: %s", job.message_id, job.actor, job.error)


def failed_job_writer(engine: AsyncEngine) -> Writer:
    """Insert one `failed_jobs` row with `engine` (use it on the loop that owns its pool)."""

    async def write(job: FailedJob) -> None:
        id = uuid.uuid4()
        # The business log says so too, in the same transaction, with the job's id and the
        # correlation id of the request that caused it.
        line = log_row(
            LogLevel.ERROR,
            f"job {job.actor} {job.message_id} failed for good after {job.attempts} attempt(s):"
            f" {job.error}",
            {"failed_job_id": str(id), "queue": job.queue, "actor": job.actor},
            at=job.failed_at,
            correlation_id=job.correlation_id,
            job_id=job.message_id,
        )
        async with engine.begin() as conn:
            await conn.execute(
                insert(failed_jobs).values(
                    id=id,
                    message_id=job.message_id,
                    queue=job.queue,
                    actor=job.actor,
                    arguments=job.arguments,
                    error=job.error,
                    attempts=job.attempts,
                    failed_at=job.failed_at,
                )
            )
            await conn.execute(insert(logs), line)

    return write


def dead_letters_of(broker: dramatiq.Broker) -> DeadLetters:
    """The broker's DeadLetters middleware (installed by `create_broker`)."""
    for m in broker.middleware:
        if isinstance(m, DeadLetters):
            return m
    raise LookupError("broker has no DeadLetters middleware; build it with create_broker")
