"""The `contact_syncs` repository (Core, over one connection) and its transaction factory."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from datetime import datetime
from typing import Any
from uuid import UUID

from sqlalchemy import select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from app.contacts.ports import OrderContact
from infrastructure.db.engine import SQLITE_BEGIN
from infrastructure.db.tables import contact_syncs, orders

MAX_ERROR_CHARS = 2_000


class SqlContactSyncs:
    """Implements `app.contacts.ports.ContactSyncs` on the connection of one transaction."""

    def __init__(self, conn: AsyncConnection) -> None:
        self._conn = conn

    async def order_contact(self, order_uuid: UUID) -> OrderContact | None:
        row = (
            await self._conn.execute(
                select(
                    orders.c.id,
                    orders.c.branch,
                    orders.c.client_name,
                    orders.c.client_email,
                    orders.c.client_phone,
                ).where(orders.c.id == order_uuid)
            )
        ).first()
        if row is None:
            return None
        return OrderContact(
            order_uuid=row.id,
            branch=row.branch,
            name=row.client_name,
            email=row.client_email,
            phone=row.client_phone,
        )

    async def ensure(
        self, order_uuid: UUID, language: str, translated: Mapping[str, Any], at: datetime
    ) -> None:
        dialect = postgresql if self._conn.dialect.name == "postgresql" else sqlite
        stmt = (
            dialect.insert(contact_syncs)
            .values(
                id=uuid.uuid4(),
                order_uuid=order_uuid,
                language=language,
                translated_fields=dict(translated),
                created_at=at,
                updated_at=at,
            )
            # Redelivered or concurrent jobs find the row already there.
            .on_conflict_do_nothing(index_elements=[contact_syncs.c.order_uuid])
        )
        await self._conn.execute(stmt)

    async def begin_attempt(self, order_uuid: UUID, at: datetime) -> int | None:
        result = await self._conn.execute(
            update(contact_syncs)
            .where(contact_syncs.c.order_uuid == order_uuid, contact_syncs.c.synced.is_(False))
            .values(
                attempts=contact_syncs.c.attempts + 1,
                last_attempt_at=at,
                updated_at=at,
            )
            .returning(contact_syncs.c.attempts)
        )
        attempts: int | None = result.scalar_one_or_none()
        return attempts

    async def record_success(
        self, order_uuid: UUID, contact_id: str, created: bool, at: datetime
    ) -> None:
        await self._conn.execute(
            update(contact_syncs)
            .where(contact_syncs.c.order_uuid == order_uuid)
            .values(synced=True, contact_id=contact_id, created=created, updated_at=at)
        )

    async def record_failure(
        self, order_uuid: UUID, category: str, message: str, at: datetime
    ) -> None:
        await self._conn.execute(
            update(contact_syncs)
            .where(contact_syncs.c.order_uuid == order_uuid)
            .values(
                error_count=contact_syncs.c.error_count + 1,
                last_error_category=category,
                last_error=message[:MAX_ERROR_CHARS],
                updated_at=at,
            )
        )


def contact_sync_units(
    engine: AsyncEngine,
) -> Callable[[], AbstractAsyncContextManager[SqlContactSyncs]]:
    """The `ContactSyncsFactory`: each call is one transaction, committed on a clean exit."""

    @asynccontextmanager
    async def unit() -> AsyncIterator[SqlContactSyncs]:
        async with engine.connect() as conn:
            if conn.dialect.name == "sqlite":
                # Take the write lock at BEGIN: a read-then-write transaction cannot deadlock.
                await conn.execution_options(**{SQLITE_BEGIN: "IMMEDIATE"})
            async with conn.begin():
                yield SqlContactSyncs(conn)

    return unit
