"""Tick claims in `schedule_ticks`: the row that makes a periodic job fire once per tick."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from sqlalchemy import delete, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncEngine

from infrastructure.db.tables import schedule_ticks

PRUNE_BATCH = 1000  # rows per DELETE (DOMAIN.md "Batches")


async def claim_tick(engine: AsyncEngine, job_name: str, tick_at: datetime, claimer: str) -> bool:
    """Insert the (job, tick) claim; True for the one caller whose insert won.

    ON CONFLICT DO NOTHING on the unique (job_name, tick_at) makes losing a plain no-op on both
    dialects, with no error to catch and no aborted PostgreSQL transaction.
    """
    dialect = postgresql if engine.dialect.name == "postgresql" else sqlite
    stmt = (
        dialect.insert(schedule_ticks)
        .values(
            id=uuid.uuid4(),
            job_name=job_name,
            tick_at=tick_at,
            claimed_by=claimer[:128],
            claimed_at=datetime.now(UTC),
        )
        .on_conflict_do_nothing(
            index_elements=[schedule_ticks.c.job_name, schedule_ticks.c.tick_at]
        )
    )
    async with engine.begin() as conn:
        result = await conn.execute(stmt)
        return result.rowcount == 1


async def prune_ticks(engine: AsyncEngine, before: datetime) -> int:
    """Delete claims of ticks before `before`, 1000 per statement, until none is left."""
    total = 0
    while True:
        batch = (
            select(schedule_ticks.c.id).where(schedule_ticks.c.tick_at < before).limit(PRUNE_BATCH)
        )
        async with engine.begin() as conn:
            deleted = (
                await conn.execute(delete(schedule_ticks).where(schedule_ticks.c.id.in_(batch)))
            ).rowcount
        total += deleted
        if deleted < PRUNE_BATCH:
            return total
