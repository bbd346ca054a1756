"""The idempotency key store on `idempotency_keys`, for PostgreSQL and SQLite.

Each write is one short transaction and a compare-and-set: the insert relies on the unique
(scope, key) with ON CONFLICT DO NOTHING (losing is a no-op, no aborted transaction); answers,
releases and take-overs match the row's `id`, which every claim sets anew, so a request whose
claim was taken over can no longer write its answer over the new holder's.
A failing database fails closed: `Unavailable` (503), never a request run without its key.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime
from typing import Any
from uuid import UUID

from sqlalchemy import delete, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from app.errors import Unavailable
from app.idempotency import Answer, IdempotencyRecord
from infrastructure.db.engine import SQLITE_BEGIN
from infrastructure.db.tables import idempotency_keys as keys

PURGE_BATCH = 1000  # rows per DELETE (DOMAIN.md "Batches")


class SqlIdempotency:
    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine
        self._dialect: Any = postgresql if engine.dialect.name == "postgresql" else sqlite

    @asynccontextmanager
    async def _write(self) -> AsyncIterator[AsyncConnection]:
        try:
            async with self._engine.connect() as conn:
                if self._engine.dialect.name == "sqlite":
                    # Take the write lock at BEGIN: writers queue on the busy timeout.
                    conn = await conn.execution_options(**{SQLITE_BEGIN: "IMMEDIATE"})
                async with conn.begin():
                    yield conn
        except (DBAPIError, OSError) as exc:
            raise Unavailable("The idempotency store is unavailable; retry later") from exc

    async def insert(
        self,
        scope: str,
        key: str,
        request_hash: str,
        *,
        token: UUID,
        at: datetime,
        expires: datetime,
    ) -> bool:
        stmt = (
            self._dialect.insert(keys)
            .values(
                id=token,
                scope=scope,
                key=key,
                request_hash=request_hash,
                created_at=at,
                expires_at=expires,
            )
            .on_conflict_do_nothing(index_elements=[keys.c.scope, keys.c.key])
        )
        async with self._write() as conn:
            return bool((await conn.execute(stmt)).rowcount == 1)

    async def get(self, scope: str, key: str) -> IdempotencyRecord | None:
        query = select(
            keys.c.id,
            keys.c.request_hash,
            keys.c.status_code,
            keys.c.response,
            keys.c.created_at,
            keys.c.expires_at,
        ).where(keys.c.scope == scope, keys.c.key == key)
        try:
            async with self._engine.connect() as conn:
                row = (await conn.execute(query)).first()
        except (DBAPIError, OSError) as exc:
            raise Unavailable("The idempotency store is unavailable; retry later") from exc
        return IdempotencyRecord(*row) if row else None

    async def take_over(
        self,
        scope: str,
        key: str,
        old: IdempotencyRecord,
        request_hash: str,
        *,
        token: UUID,
        at: datetime,
        expires: datetime,
    ) -> bool:
        unchanged = (
            keys.c.status_code.is_(None)
            if old.status_code is None
            else keys.c.status_code == old.status_code
        )
        stmt = (
            update(keys)
            .where(keys.c.scope == scope, keys.c.key == key, keys.c.id == old.token, unchanged)
            .values(
                id=token,
                request_hash=request_hash,
                status_code=None,
                response=None,
                created_at=at,
                expires_at=expires,
            )
        )
        async with self._write() as conn:
            return bool((await conn.execute(stmt)).rowcount == 1)

    async def complete(self, token: UUID, answer: Answer, expires: datetime) -> bool:
        stmt = (
            update(keys)
            .where(keys.c.id == token, keys.c.status_code.is_(None))
            .values(status_code=answer.status_code, response=answer.body, expires_at=expires)
        )
        async with self._write() as conn:
            return bool((await conn.execute(stmt)).rowcount == 1)

    async def release(self, token: UUID) -> None:
        stmt = delete(keys).where(keys.c.id == token, keys.c.status_code.is_(None))
        async with self._write() as conn:
            await conn.execute(stmt)

    async def purge(self, before: datetime) -> int:
        """Delete keys that expired before `before`, 1000 per statement, until none is left."""
        total = 0
        while True:
            batch = select(keys.c.id).where(keys.c.expires_at < before).limit(PURGE_BATCH)
            async with self._write() as conn:
                deleted = int(
                    (await conn.execute(delete(keys).where(keys.c.id.in_(batch)))).rowcount
                )
            total += deleted
            if deleted < PURGE_BATCH:
                return total
