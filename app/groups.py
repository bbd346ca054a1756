"""Grouped execution: jobs of one kind that a worker process runs at the same time are handled
together, one transaction for the group instead of one per job.

Each message stays a message: it is received, retried, dead-lettered and acknowledged on its
own, and its handler call returns (or raises) its own outcome. What is shared is the work in
between: while a group runs, the calls arriving meanwhile wait and form the next group, which
starts when the running one ends or as soon as it is full. An idle worker therefore runs each
job at once, alone; a worker with a backlog in front of it (every thread busy) runs groups of
up to `max_size`. No timer, so no job waits longer than the group running before it.

A group handler gets the members in arrival order and returns one outcome per member, an
exception for a member that failed alone; raising fails the whole group (each member's message
is then retried, and handlers are idempotent). It runs in a context of its own: a member's
correlation and job ids are set only inside `member.acting()`, so the log lines, events and
jobs written for it carry its own ids, not those of the message that happened to start the group.
"""

from __future__ import annotations

import asyncio
import contextvars
from collections.abc import Awaitable, Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from app import context
from app.metrics import NO_METRICS, Metrics

C = TypeVar("C")
R = TypeVar("R")


@dataclass(frozen=True)
class Member(Generic[C]):
    """One call of a group: its command and the ids of the message that made it."""

    command: C
    correlation_id: str | None
    job_id: str | None

    @contextmanager
    def acting(self) -> Iterator[None]:
        """Within: this member's correlation and job ids are the current ones."""
        correlation = context.correlation_id.set(self.correlation_id)
        job = context.job_id.set(self.job_id)
        try:
            yield
        finally:
            context.job_id.reset(job)
            context.correlation_id.reset(correlation)


GroupHandler = Callable[[Sequence[Member[C]]], Awaitable[Sequence[R | BaseException]]]


class _Batch(Generic[C, R]):
    """The members of one running group and the futures their callers await."""

    def __init__(self, entries: list[tuple[Member[C], asyncio.Future[R]]]) -> None:
        self.entries = entries
        self.abandoned = 0
        self.task: asyncio.Task[None] | None = None

    def holds(self, future: asyncio.Future[R]) -> bool:
        return any(f is future for _, f in self.entries)


class Groups(Generic[C, R]):
    """Coalesces concurrent `submit` calls of one event loop into calls of `handler`."""

    def __init__(
        self,
        kind: str,
        handler: GroupHandler[C, R],
        *,
        max_size: int,
        metrics: Metrics = NO_METRICS,
    ) -> None:
        if max_size < 1:
            raise ValueError("a group holds at least one member")
        self.kind = kind
        self._handler = handler
        self._max = max_size
        self._metrics = metrics
        self._waiting: list[tuple[Member[C], asyncio.Future[R]]] = []
        self._running: list[_Batch[C, R]] = []

    async def submit(self, command: C) -> R:
        """Run `command` in the next group and return its outcome (or raise its error)."""
        member = Member(command, context.correlation_id.get(), context.job_id.get())
        future: asyncio.Future[R] = asyncio.get_running_loop().create_future()
        self._waiting.append((member, future))
        self._start_ready()
        try:
            return await asyncio.shield(future)
        except asyncio.CancelledError:
            self._abandon(future)
            raise

    def _abandon(self, future: asyncio.Future[R]) -> None:
        """A caller was cancelled (its job's time limit, a shutdown): a member not started
        leaves; a running group is cancelled once every one of its callers is gone, so a
        group of one behaves as the job alone did, and a group never outlives all its jobs."""
        future.add_done_callback(_consume)
        self._waiting = [(m, f) for m, f in self._waiting if f is not future]
        for batch in self._running:
            if batch.holds(future):
                batch.abandoned += 1
                if batch.abandoned == len(batch.entries) and batch.task is not None:
                    batch.task.cancel()

    def _start_ready(self) -> None:
        # Alone when nothing runs; behind a running group, only a full group starts at once.
        while self._waiting and (not self._running or len(self._waiting) >= self._max):
            batch = _Batch(self._waiting[: self._max])
            self._waiting = self._waiting[self._max :]
            self._metrics.job_group(self.kind, len(batch.entries))
            # A context of its own: no member's ids leak into the others' writes.
            batch.task = asyncio.create_task(self._run(batch), context=contextvars.Context())
            self._running.append(batch)

    async def _run(self, batch: _Batch[C, R]) -> None:
        try:
            await self._settle(batch)
        finally:
            self._running.remove(batch)
            self._start_ready()

    async def _settle(self, batch: _Batch[C, R]) -> None:
        try:
            outcomes = await self._handler([member for member, _ in batch.entries])
            if len(outcomes) != len(batch.entries):
                raise RuntimeError(
                    f"group handler {self.kind} gave {len(outcomes)} outcomes"
                    f" for {len(batch.entries)}"
                )
        except BaseException as exc:  # the whole group failed: every member's message retries
            for _, future in batch.entries:
                if not future.done():
                    future.set_exception(exc)
            if not isinstance(exc, Exception):
                raise
            return
        for (_, future), outcome in zip(batch.entries, outcomes, strict=True):
            if future.done():
                continue
            if isinstance(outcome, BaseException):
                future.set_exception(outcome)
            else:
                future.set_result(outcome)


def _consume(future: asyncio.Future[Any]) -> None:
    """Read the outcome nobody awaits any more (asyncio would log it as never retrieved)."""
    if not future.cancelled():
        future.exception()
