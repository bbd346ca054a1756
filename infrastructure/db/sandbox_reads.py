"""The `sandboxMessages` list in SQLAlchemy Core: keyset pages of `sandbox_messages`."""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, and_, func, or_, select, true
from sqlalchemy.ext.asyncio import AsyncEngine

from app.auth.ports import After, Page
from app.sandbox import SandboxRecord
from infrastructure.db.tables import sandbox_messages

_t = sandbox_messages


def _by_phone(phone: str | None) -> ColumnElement[bool]:
    return _t.c.phone == phone if phone is not None else true()


class SqlSandboxRecords:
    """Implements `app.sandbox.SandboxRecords`."""

    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    async def page(self, first: int, after: After | None, phone: str | None) -> Page[SandboxRecord]:
        stmt = (
            select(_t.c.id, _t.c.vendor, _t.c.operation, _t.c.phone, _t.c.payload, _t.c.created_at)
            .where(_by_phone(phone))
            .order_by(_t.c.created_at.desc(), _t.c.id.desc())
            .limit(first + 1)
        )
        if after is not None:
            created_at, id = after
            stmt = stmt.where(
                or_(_t.c.created_at < created_at, and_(_t.c.created_at == created_at, _t.c.id < id))
            )
        async with self._engine.connect() as conn:
            rows: list[Any] = list((await conn.execute(stmt)).all())
        items = [SandboxRecord(**row._mapping) for row in rows[:first]]
        return Page(items, has_next=len(rows) > first)

    async def count(self, phone: str | None) -> int:
        stmt = select(func.count()).select_from(_t).where(_by_phone(phone))
        async with self._engine.connect() as conn:
            return int((await conn.execute(stmt)).scalar_one())
