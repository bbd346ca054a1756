"""Dead letters in SQL: the repository a replay writes through, and the query side."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any
from uuid import UUID

from sqlalchemy import ColumnElement, Select, and_, func, or_, select, true, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from app.auth.ports import After, Page
from app.queues.ports import FailedJobFilter, FailedJobView
from infrastructure.db.tables import failed_jobs

_COLUMNS = [
    failed_jobs.c.id,
    failed_jobs.c.message_id,
    failed_jobs.c.queue,
    failed_jobs.c.actor,
    failed_jobs.c.arguments,
    failed_jobs.c.error,
    failed_jobs.c.attempts,
    failed_jobs.c.failed_at,
    failed_jobs.c.replayed_at,
]


def _view(row: Any) -> FailedJobView:
    return FailedJobView(**row._mapping)


def _where(f: FailedJobFilter) -> ColumnElement[bool]:
    c = failed_jobs.c
    parts: list[ColumnElement[bool]] = []
    if f.queue is not None:
        parts.append(c.queue == f.queue)
    if f.actor is not None:
        parts.append(c.actor == f.actor)
    if f.replayed is not None:
        parts.append(c.replayed_at.is_not(None) if f.replayed else c.replayed_at.is_(None))
    if f.failed_from is not None:
        parts.append(c.failed_at >= f.failed_from)
    if f.failed_to is not None:
        parts.append(c.failed_at < f.failed_to)
    return and_(true(), *parts)


def _unreplayed(f: FailedJobFilter) -> ColumnElement[bool]:
    return and_(_where(f), failed_jobs.c.replayed_at.is_(None))


class SqlFailedJobs:
    """Implements `app.queues.ports.FailedJobs` on the connection of one unit of work."""

    def __init__(self, conn: AsyncConnection) -> None:
        self._conn = conn

    def _locked(self, stmt: Select[Any], *, skip: bool = False) -> Select[Any]:
        # SQLite has no row locks: the unit of work's BEGIN IMMEDIATE serialises writers.
        if self._conn.dialect.name == "postgresql":
            return stmt.with_for_update(skip_locked=skip)
        return stmt

    async def get(self, id: UUID) -> FailedJobView | None:
        stmt = self._locked(select(*_COLUMNS).where(failed_jobs.c.id == id))
        row = (await self._conn.execute(stmt)).first()
        return _view(row) if row is not None else None

    async def replayable(
        self, where: FailedJobFilter, actors: Sequence[str], limit: int
    ) -> list[FailedJobView]:
        stmt = (
            select(*_COLUMNS)
            .where(_unreplayed(where), failed_jobs.c.actor.in_(list(actors)))
            .order_by(failed_jobs.c.failed_at, failed_jobs.c.id)
            .limit(limit)
        )
        rows = (await self._conn.execute(self._locked(stmt, skip=True))).all()
        return [_view(r) for r in rows]

    async def other_actors(self, where: FailedJobFilter, actors: Sequence[str]) -> list[str]:
        stmt = (
            select(failed_jobs.c.actor)
            .where(_unreplayed(where), failed_jobs.c.actor.not_in(list(actors)))
            .group_by(failed_jobs.c.actor)
            .order_by(failed_jobs.c.actor)
        )
        return list((await self._conn.execute(stmt)).scalars())

    async def mark_replayed(self, ids: Sequence[UUID], at: datetime) -> list[UUID]:
        if not ids:
            return []
        stmt = (
            update(failed_jobs)
            .where(failed_jobs.c.id.in_(list(ids)), failed_jobs.c.replayed_at.is_(None))
            .values(replayed_at=at)
            .returning(failed_jobs.c.id)
        )
        return list((await self._conn.execute(stmt)).scalars())


class SqlFailedJobReads:
    """Implements `app.queues.ports.FailedJobReads`."""

    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    async def page(
        self, where: FailedJobFilter, first: int, after: After | None
    ) -> Page[FailedJobView]:
        c = failed_jobs.c
        stmt = select(*_COLUMNS).where(_where(where))
        if after is not None:
            at, id = after
            stmt = stmt.where(or_(c.failed_at < at, and_(c.failed_at == at, c.id < id)))
        stmt = stmt.order_by(c.failed_at.desc(), c.id.desc()).limit(first + 1)
        async with self._engine.connect() as conn:
            rows = (await conn.execute(stmt)).all()
        return Page([_view(r) for r in rows[:first]], has_next=len(rows) > first)

    async def count(self, where: FailedJobFilter) -> int:
        stmt = select(func.count()).select_from(failed_jobs).where(_where(where))
        async with self._engine.connect() as conn:
            return int((await conn.execute(stmt)).scalar_one())

    async def unreplayed_by_queue(self) -> dict[str, int]:
        stmt = (
            select(failed_jobs.c.queue, func.count())
            .where(failed_jobs.c.replayed_at.is_(None))
            .group_by(failed_jobs.c.queue)
        )
        async with self._engine.connect() as conn:
            return {q: int(n) for q, n in (await conn.execute(stmt)).all()}
