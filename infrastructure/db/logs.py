"""Business logs in SQL: the redacting writer and the newest-first reads (retention.py purges)."""

from __future__ import annotations

import logging
import uuid
from collections.abc import AsyncIterator, Callable, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

from sqlalchemy import ColumnElement, Select, case, func, insert, select, tuple_
from sqlalchemy.ext.asyncio import AsyncEngine

from app import context
from app.live import Feed, Notice, Topic
from app.logs.ports import LogAfter, LogFilter, LogLevel, LogPage, LogStats, LogView
from domain.logs.redaction import redact, redact_text
from infrastructure.db.tables import logs

log = logging.getLogger("visapi.logs")

MAX_MESSAGE = 4000  # characters stored of one message; the rest is cut, never the metadata
_COLUMNS = [
    logs.c.id,
    logs.c.level,
    logs.c.message,
    logs.c.metadata,
    logs.c.correlation_id,
    logs.c.workflow_id,
    logs.c.job_id,
    logs.c.pii_redacted,
    logs.c.created_at,
]


def _utcnow() -> datetime:
    return datetime.now(UTC)


def _autocommit(engine: AsyncEngine) -> AsyncEngine:
    # One statement per call: on PostgreSQL no BEGIN/COMMIT around it, two round trips fewer
    # (an intake pays for its log line). SQLite keeps its transactions (and its write lock).
    if engine.dialect.name == "postgresql":
        return engine.execution_options(isolation_level="AUTOCOMMIT")
    return engine


def log_row(
    level: LogLevel,
    message: str,
    metadata: Mapping[str, Any] | None,
    *,
    at: datetime,
    correlation_id: str | None,
    workflow_id: UUID | None = None,
    job_id: str | None = None,
) -> dict[str, Any]:
    """The row as stored: message and metadata redacted, `pii_redacted` when anything was."""
    # Redacted whole, then cut: cut first, an address across the cut would be stored in part.
    text = redact_text(message)
    meta = redact(dict(metadata or {}))
    return {
        "id": uuid.uuid4(),
        "level": LogLevel(level).value,
        "message": text.value[:MAX_MESSAGE],
        "metadata": meta.value,
        "correlation_id": correlation_id[:64] if correlation_id else None,
        "workflow_id": workflow_id,
        "job_id": job_id[:128] if job_id else None,
        "pii_redacted": text.redacted or meta.redacted,
        "created_at": at,
    }


def log_notice(row: Mapping[str, Any]) -> Notice:
    """The live notice of a stored line: the line itself, as stored (redacted)."""
    data = {
        **row,
        "id": str(row["id"]),
        "workflow_id": str(row["workflow_id"]) if row["workflow_id"] else None,
        "created_at": row["created_at"].isoformat(),
    }
    return Notice(Topic.LOGS, row["level"], data["id"], row["created_at"], data)


class SqlBusinessLog:
    """The BusinessLog port: one short INSERT per entry, on its own connection."""

    def __init__(
        self,
        engine: AsyncEngine,
        *,
        now: Callable[[], datetime] = _utcnow,
        feed: Feed | None = None,
    ) -> None:
        self._engine = _autocommit(engine)
        self._now = now
        self._feed = feed

    async def write(
        self,
        level: LogLevel,
        message: str,
        *,
        metadata: Mapping[str, Any] | None = None,
        workflow_id: UUID | None = None,
        job_id: str | None = None,
    ) -> None:
        row = log_row(
            level,
            message,
            metadata,
            at=self._now(),
            correlation_id=context.correlation_id.get(),
            workflow_id=workflow_id,
            job_id=job_id or context.job_id.get(),
        )
        try:
            async with self._engine.connect() as conn:
                await conn.execute(insert(logs), row)
                await conn.commit()
        except Exception:
            # The work this log describes is done (or failed on its own): losing the log is
            # better than failing it. The line below still carries the correlation id.
            log.exception("could not store business log %r", row["message"][:200])
            return
        if self._feed is not None:
            await self._feed.publish([log_notice(row)])


class SqlUnitLogs:
    """Log lines of a unit of work: stored by its commit, in its transaction (nothing on rollback).

    What the unit did is logged exactly when it happened, at no round trip of its own.
    """

    def __init__(
        self, correlation_id: str | None, *, now: Callable[[], datetime] = _utcnow
    ) -> None:
        self._correlation_id = correlation_id
        self._now = now
        self.added: list[dict[str, Any]] = []

    def add(
        self,
        level: LogLevel,
        message: str,
        *,
        metadata: Mapping[str, Any] | None = None,
        workflow_id: UUID | None = None,
        job_id: str | None = None,
    ) -> None:
        self.added.append(
            log_row(
                level,
                message,
                metadata,
                at=self._now(),
                correlation_id=self._correlation_id or context.correlation_id.get(),
                workflow_id=workflow_id,
                job_id=job_id or context.job_id.get(),
            )
        )


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def conditions(f: LogFilter) -> list[ColumnElement[bool]]:
    where: list[ColumnElement[bool]] = []
    if f.level is not None:
        where.append(logs.c.level == f.level.value)
    if f.workflow_id is not None:
        where.append(logs.c.workflow_id == f.workflow_id)
    if f.job_id is not None:
        where.append(logs.c.job_id == f.job_id)
    if f.correlation_id is not None:
        where.append(logs.c.correlation_id == f.correlation_id)
    if f.from_ is not None:
        where.append(logs.c.created_at >= f.from_)
    if f.to is not None:
        where.append(logs.c.created_at < f.to)
    if f.text is not None:
        # ILIKE on PostgreSQL (served by the pg_trgm GIN index), lower() LIKE on SQLite.
        where.append(logs.c.message.ilike(f"%{_escape_like(f.text)}%", escape="\\"))
    return where


def page_query(f: LogFilter, limit: int, after: LogAfter | None) -> Select[Any]:
    stmt = select(*_COLUMNS).where(*conditions(f))
    if after is not None:
        stmt = stmt.where(tuple_(logs.c.created_at, logs.c.id) < tuple_(*after))
    return stmt.order_by(logs.c.created_at.desc(), logs.c.id.desc()).limit(limit)


def _view(row: Any) -> LogView:
    return LogView(*row)


class SqlLogReads:
    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = _autocommit(engine)

    async def page(self, filter: LogFilter, first: int, after: LogAfter | None) -> LogPage:
        async with self._engine.connect() as conn:
            rows = (await conn.execute(page_query(filter, first + 1, after))).all()
        return LogPage([_view(r) for r in rows[:first]], has_next=len(rows) > first)

    async def count(self, filter: LogFilter) -> int:
        stmt = select(func.count()).select_from(logs).where(*conditions(filter))
        async with self._engine.connect() as conn:
            return int((await conn.execute(stmt)).scalar_one())

    async def stats(self, now: datetime) -> LogStats:
        since = now - timedelta(hours=24)
        stmt = select(
            logs.c.level,
            func.count(),
            func.sum(case((logs.c.pii_redacted, 1), else_=0)),
            func.sum(case((logs.c.created_at >= since, 1), else_=0)),
        ).group_by(logs.c.level)
        async with self._engine.connect() as conn:
            rows = (await conn.execute(stmt)).all()
        return LogStats(
            total=sum(r[1] for r in rows),
            by_level={r[0]: int(r[1]) for r in rows},
            with_pii=sum(int(r[2] or 0) for r in rows),
            last_24h=sum(int(r[3] or 0) for r in rows),
        )

    async def batches(self, filter: LogFilter, size: int) -> AsyncIterator[list[LogView]]:
        after: LogAfter | None = None
        while True:
            page = await self.page(filter, size, after)
            if page.items:
                yield page.items
            if not page.has_next:
                return
            last = page.items[-1]
            after = (last.created_at, last.id)
