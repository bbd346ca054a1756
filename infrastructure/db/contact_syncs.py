"""The `contact_syncs` repository (Core, over the connection of a unit of work)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from uuid import UUID

from sqlalchemy import select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection

from app.contacts.ports import SyncStart
from infrastructure.db.tables import contact_syncs

MAX_ERROR_CHARS = 2_000


class SqlContactSyncs:
    """Implements `app.contacts.ports.ContactSyncs` on the connection of one transaction."""

    def __init__(self, conn: AsyncConnection) -> None:
        self._conn = conn

    async def begin_attempts(
        self, starts: Sequence[SyncStart], at: datetime, *, force: bool
    ) -> dict[UUID, int]:
        if not starts:
            return {}
        dialect = postgresql if self._conn.dialect.name == "postgresql" else sqlite
        insert = dialect.insert(contact_syncs).values(
            [
                {
                    "id": uuid.uuid4(),
                    "order_uuid": s.order_uuid,
                    "language": s.language,
                    "translated_fields": dict(s.translated),
                    "attempts": 1,
                    "last_attempt_at": at,
                    "created_at": at,
                    "updated_at": at,
                }
                for s in starts
            ]
        )
        # Redelivered or concurrent jobs find the row there; translations may have been edited.
        stmt = insert.on_conflict_do_update(
            index_elements=[contact_syncs.c.order_uuid],
            set_={
                "language": insert.excluded.language,
                "translated_fields": insert.excluded.translated_fields,
                "attempts": contact_syncs.c.attempts + 1,
                "last_attempt_at": at,
                "updated_at": at,
            },
            where=None if force else contact_syncs.c.synced.is_(False),
        ).returning(contact_syncs.c.order_uuid, contact_syncs.c.attempts)
        return {row.order_uuid: row.attempts for row in await self._conn.execute(stmt)}

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
