"""Idempotency keys in the `idempotency_keys` table (implements app.workflows.ports.Idempotency).

In the database rather than Redis so a key outlives a cache flush and fails closed with it.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import and_, delete, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncEngine

from app.workflows.ports import Remembered
from infrastructure.db.tables import idempotency_keys as keys


class SqlIdempotency:
    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    async def claim(
        self, scope: str, key: str, request_hash: str, ttl_s: float
    ) -> Remembered | None:
        now = datetime.now(UTC)
        dialect = postgresql if self._engine.dialect.name == "postgresql" else sqlite
        this = and_(keys.c.scope == scope, keys.c.key == key)
        async with self._engine.begin() as conn:
            # An expired key is free again.
            await conn.execute(delete(keys).where(this, keys.c.expires_at < now))
            inserted = await conn.execute(
                dialect.insert(keys)
                .values(
                    id=uuid.uuid4(),
                    scope=scope,
                    key=key,
                    request_hash=request_hash,
                    created_at=now,
                    expires_at=now + timedelta(seconds=ttl_s),
                )
                .on_conflict_do_nothing(index_elements=[keys.c.scope, keys.c.key])
            )
            if inserted.rowcount == 1:
                return None
            row = (
                await conn.execute(
                    select(keys.c.request_hash, keys.c.status_code, keys.c.response).where(this)
                )
            ).one()
        return Remembered(row.request_hash == request_hash, row.status_code, row.response)

    async def complete(self, scope: str, key: str, status_code: int, response: Any) -> None:
        async with self._engine.begin() as conn:
            await conn.execute(
                update(keys)
                .where(keys.c.scope == scope, keys.c.key == key)
                .values(status_code=status_code, response=response)
            )

    async def release(self, scope: str, key: str) -> None:
        async with self._engine.begin() as conn:
            await conn.execute(delete(keys).where(keys.c.scope == scope, keys.c.key == key))
