"""Business logs: the port that writes them, the query side that reads them, and their views."""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any, Protocol
from uuid import UUID


class LogLevel(StrEnum):
    DEBUG = "debug"
    INFO = "info"
    WARN = "warn"
    ERROR = "error"


@dataclass(frozen=True, slots=True)
class LogView:
    id: UUID
    level: str
    message: str
    metadata: dict[str, Any]
    correlation_id: str | None
    workflow_id: UUID | None
    job_id: str | None
    pii_redacted: bool
    created_at: datetime


@dataclass(frozen=True, slots=True)
class LogFilter:
    """All given conditions hold (AND); `text` is a case-insensitive substring of the message."""

    level: LogLevel | None = None
    workflow_id: UUID | None = None
    job_id: str | None = None
    correlation_id: str | None = None
    from_: datetime | None = None  # inclusive
    to: datetime | None = None  # exclusive
    text: str | None = None


@dataclass(frozen=True, slots=True)
class LogPage:
    items: list[LogView]
    has_next: bool


@dataclass(frozen=True, slots=True)
class LogStats:
    total: int
    by_level: dict[str, int] = field(default_factory=dict)
    with_pii: int = 0
    last_24h: int = 0


# Keyset of the newest-first order: (created_at, id) of the last row seen.
LogAfter = tuple[datetime, UUID]


class BusinessLog(Protocol):
    """Writes one business log row: redacted before storage, with the current correlation id
    (and job id inside a job) unless given. Never raises: a log must not fail the work."""

    async def write(
        self,
        level: LogLevel,
        message: str,
        *,
        metadata: Mapping[str, Any] | None = None,
        workflow_id: UUID | None = None,
        job_id: str | None = None,
    ) -> None: ...


class UnitLogs(Protocol):
    """Log lines written by a unit of work's commit, in its transaction: a line about a change
    exists exactly when the change does. Redacted like BusinessLog's."""

    def add(
        self,
        level: LogLevel,
        message: str,
        *,
        metadata: Mapping[str, Any] | None = None,
        workflow_id: UUID | None = None,
        job_id: str | None = None,
    ) -> None:
        """A line stored with the unit's commit; `job_id` defaults to the running job's."""
        ...


class LogReads(Protocol):
    """The query side of business logs, newest first."""

    async def page(self, filter: LogFilter, first: int, after: LogAfter | None) -> LogPage: ...

    async def count(self, filter: LogFilter) -> int: ...

    async def stats(self, now: datetime) -> LogStats: ...

    def batches(self, filter: LogFilter, size: int) -> AsyncIterator[list[LogView]]:
        """Every matching row in pages of `size`, one short query each (for exports)."""
        ...
