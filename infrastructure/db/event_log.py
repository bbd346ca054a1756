"""The audit trail read by time, for replays: stored events oldest first, in keyset pages."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from uuid import UUID

from sqlalchemy import ColumnElement, and_, func, or_, select
from sqlalchemy.ext.asyncio import AsyncEngine

from app.ports import StoredEvent
from infrastructure.db.tables import events, workflow_runs


def _window(start: datetime, end: datetime, types: Sequence[str]) -> ColumnElement[bool]:
    # Served by ix_events_type_occurred_at.
    return and_(
        events.c.type.in_(list(types)), events.c.occurred_at >= start, events.c.occurred_at < end
    )


class SqlEventLog:
    """Implements `EventLog` on the `events` table."""

    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    async def runs_of_orders(self, order_ids: Sequence[UUID]) -> dict[UUID, list[UUID]]:
        order = workflow_runs.c.context["order"]["id"].as_string()
        query = select(workflow_runs.c.id, order).where(order.in_([str(i) for i in order_ids]))
        found: dict[UUID, list[UUID]] = {}
        async with self._engine.connect() as conn:
            for run_id, order_id in (await conn.execute(query)).all():
                found.setdefault(UUID(order_id), []).append(run_id)
        return found

    async def count(self, start: datetime, end: datetime, types: Sequence[str]) -> int:
        query = select(func.count()).select_from(events).where(_window(start, end, types))
        async with self._engine.connect() as conn:
            return int((await conn.execute(query)).scalar_one())

    async def page(
        self,
        start: datetime,
        end: datetime,
        types: Sequence[str],
        after: tuple[datetime, UUID] | None,
        limit: int,
    ) -> list[StoredEvent]:
        query = (
            select(
                events.c.id,
                events.c.type,
                events.c.aggregate_id,
                events.c.payload,
                events.c.actor,
                events.c.occurred_at,
            )
            .where(_window(start, end, types))
            .order_by(events.c.occurred_at, events.c.id)
            .limit(limit)
        )
        if after is not None:
            at, id = after
            query = query.where(
                or_(
                    events.c.occurred_at > at,
                    and_(events.c.occurred_at == at, events.c.id > id),
                )
            )
        async with self._engine.connect() as conn:
            rows = (await conn.execute(query)).all()
        return [StoredEvent(**row._asdict()) for row in rows]
