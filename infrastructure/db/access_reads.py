"""The query side of keys and users in SQLAlchemy Core, and the batched `last_used_at` write."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any
from uuid import UUID

from sqlalchemy import ColumnElement, Select, Table, and_, case, func, literal, or_, select, update
from sqlalchemy.ext.asyncio import AsyncEngine

from app.auth.ports import After, KeyView, Page, StoredKey, UserView
from domain.auth.permissions import Permission, Role
from infrastructure.db.tables import api_keys, users
from infrastructure.db.tables.base import Timestamp

# Keys used within one flush interval, per UPDATE: normally all of them, so one statement.
USAGE_BATCH = 1000

_KEY_COLUMNS = [c for c in api_keys.c if c.name not in ("hashed_secret", "updated_at")]
_USER_COLUMNS = [c for c in users.c if c.name != "updated_at"]


def _key_view(row: Any) -> KeyView:
    data = dict(row._mapping)
    data["scopes"] = tuple(sorted(data["scopes"]))
    return KeyView(**data)


def _user_view(row: Any) -> UserView:
    data = dict(row._mapping)
    data["role"] = Role(data["role"])
    return UserView(**data)


def _after(table: Table, after: After) -> ColumnElement[bool]:
    created_at, id = after
    return or_(
        table.c.created_at < created_at,
        and_(table.c.created_at == created_at, table.c.id < id),
    )


def _page_query(table: Table, columns: list[Any], first: int, after: After | None) -> Select[Any]:
    stmt = select(*columns).order_by(table.c.created_at.desc(), table.c.id.desc())
    if after is not None:
        stmt = stmt.where(_after(table, after))
    return stmt.limit(first + 1)


class SqlAccessReads:
    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    async def _rows(self, stmt: Any) -> list[Any]:
        async with self._engine.connect() as conn:
            return list((await conn.execute(stmt)).all())

    async def _count(self, table: Table) -> int:
        async with self._engine.connect() as conn:
            return int((await conn.execute(select(func.count()).select_from(table))).scalar_one())

    async def key_by_prefix(self, prefix: str) -> StoredKey | None:
        stmt = select(
            api_keys.c.id,
            api_keys.c.name,
            api_keys.c.prefix,
            api_keys.c.hashed_secret,
            api_keys.c.scopes,
            api_keys.c.expires_at,
            api_keys.c.revoked_at,
        ).where(api_keys.c.prefix == prefix)
        rows = await self._rows(stmt)
        if not rows:
            return None
        data = dict(rows[0]._mapping)
        # A scope no longer in the vocabulary grants nothing rather than failing every check.
        known = {p.value for p in Permission}
        data["scopes"] = frozenset(Permission(s) for s in data["scopes"] if s in known)
        return StoredKey(**data)

    async def key_by_id(self, id: UUID) -> KeyView | None:
        rows = await self._rows(select(*_KEY_COLUMNS).where(api_keys.c.id == id))
        return _key_view(rows[0]) if rows else None

    async def key_page(self, first: int, after: After | None) -> Page[KeyView]:
        rows = await self._rows(_page_query(api_keys, _KEY_COLUMNS, first, after))
        return Page([_key_view(r) for r in rows[:first]], has_next=len(rows) > first)

    async def count_keys(self) -> int:
        return await self._count(api_keys)

    async def user_by_subject(self, subject: str) -> UserView | None:
        rows = await self._rows(select(*_USER_COLUMNS).where(users.c.external_subject == subject))
        return _user_view(rows[0]) if rows else None

    async def user_by_id(self, id: UUID) -> UserView | None:
        rows = await self._rows(select(*_USER_COLUMNS).where(users.c.id == id))
        return _user_view(rows[0]) if rows else None

    async def user_page(self, first: int, after: After | None) -> Page[UserView]:
        rows = await self._rows(_page_query(users, _USER_COLUMNS, first, after))
        return Page([_user_view(r) for r in rows[:first]], has_next=len(rows) > first)

    async def count_users(self) -> int:
        return await self._count(users)

    async def changed_since(self, since: datetime) -> set[UUID]:
        keys = select(api_keys.c.id).where(api_keys.c.revoked_at >= since)
        people = select(users.c.id).where(users.c.updated_at >= since)
        return {row[0] for row in await self._rows(keys.union_all(people))}


async def write_last_used(engine: AsyncEngine, usage: Mapping[UUID, datetime]) -> int:
    """`last_used_at` of every key in `usage`, in one UPDATE per 1000 keys (a CASE on id)."""
    changed = 0
    async with engine.begin() as conn:
        items = list(usage.items())
        for start in range(0, len(items), USAGE_BATCH):
            chunk = items[start : start + USAGE_BATCH]
            new_value = case(
                *((api_keys.c.id == id, literal(at, Timestamp)) for id, at in chunk),
                else_=api_keys.c.last_used_at,
            )
            result = await conn.execute(
                update(api_keys)
                .where(api_keys.c.id.in_([id for id, _ in chunk]))
                .values(last_used_at=new_value)
            )
            changed += result.rowcount
    return changed
