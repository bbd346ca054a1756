"""The `contact_syncs` repository (Core, over the connection of a unit of work)."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import datetime
from typing import Any
from uuid import UUID

from sqlalchemy import select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection

from infrastructure.db.tables import contact_syncs

MAX_ERROR_CHARS = 2_000


class SqlContactSyncs:
    """Implements `app.contacts.ports.ContactSyncs` on the connection of one transaction."""

    def __init__(self, conn: AsyncConnection) -> None:
        self._conn = conn

    async def upsert(
        self, order_uuid: UUID, language: str, translated: Mapping[str, Any], at: datetime
    ) -> None:
        dialect = postgresql if self._conn.dialect.name == "postgresql" else sqlite
        insert = dialect.insert(contact_syncs).values(
            id=uuid.uuid4(),
            order_uuid=order_uuid,
            language=language,
            translated_fields=dict(translated),
            created_at=at,
            updated_at=at,
        )
        # Redelivered or concurrent jobs find the row there; translations may have been edited.
        stmt = insert.on_conflict_do_update(
            index_elements=[contact_syncs.c.order_uuid],
            set_={
                "language": insert.excluded.language,
                "translated_fields": insert.excluded.translated_fields,
                "updated_at": insert.excluded.updated_at,
            },
        )
        await self._conn.execute(stmt)

    async def begin_attempt(self, order_uuid: UUID, at: datetime, *, force: bool) -> int | None:
        stmt = update(contact_syncs).where(contact_syncs.c.order_uuid == order_uuid)
        if not force:
            stmt = stmt.where(contact_syncs.c.synced.is_(False))
        result = await self._conn.execute(
            stmt.values(
                attempts=contact_syncs.c.attempts + 1, last_attempt_at=at, updated_at=at
            ).returning(contact_syncs.c.attempts)
        )
        attempts: int | None = result.scalar_one_or_none()
        return attempts

    async def is_synced(self, order_uuid: UUID) -> bool:
        synced = await self._conn.scalar(
            select(contact_syncs.c.synced).where(contact_syncs.c.order_uuid == order_uuid)
        )
        return bool(synced)

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
