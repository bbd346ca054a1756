"""Delivery events on `delivery_events`, applied to `notifications` forward only.

Each report is applied in its own short transaction with compare-and-set updates, so two events
of one message racing each other (a `read` overtaking a `delivered`) cannot move a row back: the
status update only matches rows still in an earlier status, and a phone match only takes a
notification that has no provider id yet: one recorded `sent`, or one still `pending` (the
worker that claimed it may have died between the vendor's answer and recording it).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping, Sequence
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from uuid import UUID

from sqlalchemy import case, func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from app.notifications.deliveries import Advanced, Applied, DeliveryEvent, EventStatus
from domain.notifications.delivery import StatusReport, earlier_statuses, phone_window
from domain.notifications.status import NotificationStatus
from infrastructure.db.engine import SQLITE_BEGIN
from infrastructure.db.tables import delivery_events, notifications

n = notifications.c
PENDING = NotificationStatus.PENDING.value
STAMP = {
    NotificationStatus.SENT: "sent_at",
    NotificationStatus.DELIVERED: "delivered_at",
    NotificationStatus.READ: "read_at",
    NotificationStatus.FAILED: "failed_at",
}


class SqlDeliveries:
    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    @asynccontextmanager
    async def _write(self) -> AsyncIterator[AsyncConnection]:
        async with self._engine.connect() as conn:
            if self._engine.dialect.name == "sqlite":
                conn = await conn.execution_options(**{SQLITE_BEGIN: "IMMEDIATE"})
            async with conn.begin():
                yield conn

    async def store(self, events: Sequence[DeliveryEvent]) -> None:
        rows = [
            {
                "id": e.id,
                "payload": e.payload,
                "signature_verified": e.signature_verified,
                "event_type": e.event_type,
                "provider_message_id": e.provider_message_id,
                "phone": e.phone,
                "processing_status": EventStatus.RECEIVED.value,
                "received_at": e.received_at,
            }
            for e in events
        ]
        async with self._write() as conn:
            await conn.execute(insert(delivery_events), rows)

    async def mark(self, statuses: Mapping[UUID, EventStatus]) -> None:
        by_status: dict[EventStatus, list[UUID]] = {}
        for event_id, status in statuses.items():
            by_status.setdefault(status, []).append(event_id)
        async with self._write() as conn:
            for status, ids in by_status.items():
                await conn.execute(
                    update(delivery_events)
                    .where(delivery_events.c.id.in_(ids))
                    .values(processing_status=status.value)
                )

    async def apply(self, report: StatusReport, at: datetime) -> Applied | Advanced:
        reported = report.status
        if reported is None:
            return Applied.UNMATCHED
        async with self._write() as conn:
            target = await _match(conn, report, at)
            if target is None:
                return Applied.UNMATCHED
            values: dict[str, object] = {
                "status": reported.value,
                STAMP[reported]: at,
                "updated_at": datetime.now(UTC),
            }
            if reported is NotificationStatus.FAILED:
                values["failure_reason"] = report.failure_reason or "failed (no reason given)"
            elif reported is not NotificationStatus.SENT:
                # A `pending` row matched by phone was sent: it gets the time we learnt it.
                values["sent_at"] = func.coalesce(n.sent_at, at)
            earlier = [s.value for s in earlier_statuses(reported)]
            moved = (
                await conn.execute(
                    update(notifications)
                    .where(n.id == target, n.status.in_(earlier))
                    .values(**values)
                    .returning(n.order_uuid, n.kind)
                )
            ).first()
            if moved is None:
                return Applied.STALE
            return Advanced(moved.order_uuid, moved.kind, reported)


async def _match(conn: AsyncConnection, report: StatusReport, at: datetime) -> UUID | None:
    """The notification the report is about: by provider id, else by phone within the window
    (the one found then takes the provider id, so later reports of the message match by id)."""
    pid = report.provider_message_id
    if pid is not None:
        found: UUID | None = await conn.scalar(
            select(n.id).where(n.provider_message_id == pid).limit(1)
        )
        if found is not None:
            return found
    if report.phone is None:
        return None
    earliest, latest = phone_window(at)
    # When a row's message went out: `sent_at`, or for a claim still `pending` (its worker died
    # between the vendor's answer and recording it, or has not recorded it yet) the claim's
    # time, which is before the vendor call. Matching those is what keeps a redelivered job
    # from sending the message a second time once the claim turns stale.
    went_out = func.coalesce(n.sent_at, case((n.status == PENDING, n.claimed_at)))
    candidates = select(n.id).where(
        n.phone == report.phone, n.provider_message_id.is_(None), went_out.is_not(None)
    )
    # Sent at or before the event, newest first; else just after it (the grace), nearest first.
    for query in (
        candidates.where(went_out >= earliest, went_out <= at).order_by(went_out.desc()),
        candidates.where(went_out > at, went_out <= latest).order_by(went_out.asc()),
    ):
        candidate: UUID | None = await conn.scalar(query.limit(1))
        if candidate is None:
            continue
        if pid is None:
            return candidate  # a report without an id: apply it, nothing to take
        taken = await conn.execute(
            update(notifications)
            .where(n.id == candidate, n.provider_message_id.is_(None))
            .values(provider_message_id=pid)
        )
        if taken.rowcount == 1:
            return candidate
        # A concurrent report took the row first (with this id, or another message's).
        again: UUID | None = await conn.scalar(
            select(n.id).where(n.provider_message_id == pid).limit(1)
        )
        return again
    return None
