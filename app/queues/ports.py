"""Ports and read models of the queues: dead letters (read and write side) and broker gauges."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol
from uuid import UUID

from app.auth.ports import After, Page


@dataclass(frozen=True, slots=True)
class FailedJobView:
    """A dead letter: a message that failed for good, as `failed_jobs` stores it."""

    id: UUID
    message_id: str | None
    queue: str
    actor: str
    arguments: dict[str, Any]
    error: str
    attempts: int
    failed_at: datetime
    replayed_at: datetime | None


@dataclass(frozen=True, slots=True)
class FailedJobFilter:
    """Conditions on dead letters; None means "any". `failed_to` is exclusive."""

    queue: str | None = None
    actor: str | None = None
    replayed: bool | None = None
    failed_from: datetime | None = None
    failed_to: datetime | None = None


class FailedJobs(Protocol):
    """Write side of dead letters, inside a unit of work."""

    async def get(self, id: UUID) -> FailedJobView | None:
        """The row, locked for update where the database can."""
        ...

    async def replayable(
        self, where: FailedJobFilter, actors: Sequence[str], limit: int
    ) -> list[FailedJobView]:
        """Unreplayed rows matching `where` of one of `actors`, oldest first, locked
        (skipping rows another replay holds)."""
        ...

    async def other_actors(self, where: FailedJobFilter, actors: Sequence[str]) -> list[str]:
        """Actors, sorted, of unreplayed rows matching `where` that are not in `actors`."""
        ...

    async def mark_replayed(self, ids: Sequence[UUID], at: datetime) -> list[UUID]:
        """Set replayed_at on those of `ids` not replayed yet; return the ids changed."""
        ...


class FailedJobReads(Protocol):
    """Query side of dead letters."""

    async def page(
        self, where: FailedJobFilter, first: int, after: After | None
    ) -> Page[FailedJobView]:
        """Newest first (failed_at, then id)."""
        ...

    async def count(self, where: FailedJobFilter) -> int: ...

    async def unreplayed_by_queue(self) -> dict[str, int]: ...


@dataclass(frozen=True, slots=True)
class QueueDepth:
    ready: int  # waiting to be fetched
    delayed: int  # waiting for their time (retries, deferrals)
    in_flight: int  # fetched by a worker, not acknowledged yet


@dataclass(frozen=True, slots=True)
class Throughput:
    """Deliveries finished in a window: succeeded, failed and retried, failed for good."""

    processed: int = 0
    retried: int = 0
    failed: int = 0


class QueueGauges(Protocol):
    """What the broker knows now, and the counts the workers keep."""

    async def depths(self, queues: Sequence[str]) -> dict[str, QueueDepth]: ...

    async def throughput(self, window_s: int, queues: Sequence[str]) -> dict[str, Throughput]: ...
