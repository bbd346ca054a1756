"""The `notifications` repository: rows of messages to send, and the claim that makes each
send happen once (Core, over the connection of a unit of work)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import fields
from datetime import datetime
from uuid import UUID

from sqlalchemy import and_, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection

from app.notifications.ports import Claimed, ClaimState, NewNotification
from app.orders.side_views import NotificationView
from domain.notifications.status import NotificationStatus as S
from infrastructure.db.tables import notifications as n

MAX_REASON_CHARS = 2_000
_VIEW = [n.c.order_uuid.label("order_id")] + [
    n.c[f.name] for f in fields(NotificationView) if f.name != "order_id"
]


class SqlNotifications:
    """Implements `app.notifications.ports.Notifications`."""

    def __init__(self, conn: AsyncConnection) -> None:
        self._conn = conn

    async def add(self, row: NewNotification) -> bool:
        dialect = postgresql if self._conn.dialect.name == "postgresql" else sqlite
        stmt = (
            dialect.insert(n)
            .values(
                id=row.id,
                order_uuid=row.order_uuid,
                kind=row.kind,
                item=row.item,
                template=row.template,
                language=row.language,
                params=list(row.params),
                phone=row.phone,
                status=S.QUEUED.value,
                created_at=row.created_at,
                updated_at=row.created_at,
            )
            # Two syncs of one order racing: the second finds the row and queues nothing.
            .on_conflict_do_nothing(index_elements=[n.c.order_uuid, n.c.kind, n.c.item])
            .returning(n.c.id)
        )
        return (await self._conn.execute(stmt)).first() is not None

    async def of_order(self, order_uuid: UUID, kind: str) -> list[NotificationView]:
        rows = await self._conn.execute(
            select(*_VIEW)
            .where(n.c.order_uuid == order_uuid, n.c.kind == kind)
            .order_by(n.c.created_at, n.c.id)
        )
        return [NotificationView(**r._asdict()) for r in rows]

    async def state(self, id: UUID) -> ClaimState | None:
        query = select(n.c.status, n.c.claimed_at).where(n.c.id == id)
        row = (await self._conn.execute(query)).first()
        return ClaimState(row.status, row.claimed_at) if row else None

    async def claim(
        self, ids: Sequence[UUID], token: str, at: datetime, stale_before: datetime
    ) -> dict[UUID, Claimed]:
        if not ids:
            return {}
        # One statement: of two attempts racing, the database lets exactly one match a row.
        result = await self._conn.execute(
            update(n)
            .where(
                n.c.id.in_(ids),
                or_(
                    n.c.status == S.QUEUED.value,
                    and_(n.c.status == S.PENDING.value, n.c.claimed_at < stale_before),
                ),
            )
            .values(
                status=S.PENDING.value,
                claimed_at=at,
                claim_token=token,
                attempts=n.c.attempts + 1,
                updated_at=at,
            )
            .returning(n.c.id, n.c.phone, n.c.template, n.c.language, n.c.params)
        )
        return {
            row.id: Claimed(row.id, token, row.phone, row.template, row.language, list(row.params))
            for row in result
        }

    async def release(self, id: UUID, token: str, reason: str, at: datetime) -> bool:
        # The reason stays visible while the row waits for its retry.
        held = await self._held(
            id, token, status=S.QUEUED.value, failure_reason=reason[:MAX_REASON_CHARS], at=at
        )
        return held is not None

    async def record_sent(
        self, id: UUID, token: str, provider_message_id: str | None, at: datetime
    ) -> UUID | None:
        return await self._held(
            id,
            token,
            status=S.SENT.value,
            sent_at=at,
            provider_message_id=provider_message_id,
            failure_reason=None,
            at=at,
        )

    async def record_failed(self, id: UUID, token: str, reason: str, at: datetime) -> UUID | None:
        return await self._held(
            id,
            token,
            status=S.FAILED.value,
            failed_at=at,
            failure_reason=reason[:MAX_REASON_CHARS],
            at=at,
        )

    async def _held(self, id: UUID, token: str, *, at: datetime, **values: object) -> UUID | None:
        """Update only while `token` holds the claim: an attempt whose stale claim was taken
        over must not overwrite what the newer attempt records. The order's uuid, or None."""
        result = await self._conn.execute(
            update(n)
            .where(n.c.id == id, n.c.claim_token == token, n.c.status == S.PENDING.value)
            .values(claim_token=None, updated_at=at, **values)
            .returning(n.c.order_uuid)
        )
        order_uuid: UUID | None = result.scalar_one_or_none()
        return order_uuid
