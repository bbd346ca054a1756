"""A fake of the delivery events store (infrastructure/db/deliveries.py: SqlDeliveries): events
kept raw with their processing status, and reports applied to the notification rows of a
FakeStore forward only, matched by provider id, else by phone within the window (taking the id).

Each call is its own transaction over committed rows, as in the adapter (no unit of work)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from uuid import UUID

from app.notifications.deliveries import Advanced, Applied, DeliveryEvent, EventStatus
from domain.notifications.delivery import StatusReport, earlier_statuses, phone_window
from domain.notifications.status import NotificationStatus
from tests.fakes.messaging import DuplicateRow
from tests.fakes.rows import NotificationRow
from tests.fakes.store import FakeStore

STAMP = {
    NotificationStatus.SENT: "sent_at",
    NotificationStatus.DELIVERED: "delivered_at",
    NotificationStatus.READ: "read_at",
    NotificationStatus.FAILED: "failed_at",
}


@dataclass(frozen=True)
class DeliveryEventRow:
    event: DeliveryEvent
    processing_status: EventStatus


class FakeDeliveries:
    def __init__(self, store: FakeStore) -> None:
        self.db = store  # its `notifications` rows, committed ones
        self.events: dict[UUID, DeliveryEventRow] = {}  # in insertion order

    async def store(self, events: Sequence[DeliveryEvent]) -> None:
        # One transaction: a taken id refuses the whole insert.
        if any(e.id in self.events for e in events) or len({e.id for e in events}) < len(events):
            raise DuplicateRow("delivery_events.id")
        for e in events:
            self.events[e.id] = DeliveryEventRow(e, EventStatus.RECEIVED)

    async def mark(self, statuses: Mapping[UUID, EventStatus]) -> None:
        for id, status in statuses.items():
            row = self.events.get(id)
            if row is not None:
                self.events[id] = replace(row, processing_status=status)

    async def apply(self, report: StatusReport, at: datetime) -> Applied | Advanced:
        reported = report.status
        if reported is None:
            return Applied.UNMATCHED
        target = self._match(report, at)
        if target is None:
            return Applied.UNMATCHED
        row = self.db.notifications[target]
        if NotificationStatus(row.status) not in earlier_statuses(reported):
            return Applied.STALE
        values: dict[str, object] = {
            "status": reported.value,
            STAMP[reported]: at,
            "updated_at": datetime.now(UTC),
        }
        if reported is NotificationStatus.FAILED:
            values["failure_reason"] = report.failure_reason or "failed (no reason given)"
        elif reported is not NotificationStatus.SENT:
            values["sent_at"] = row.sent_at or at
        self.db.notifications[target] = replace(row, **values)  # type: ignore[arg-type]
        return Advanced(row.order_uuid, row.kind, reported)

    def _match(self, report: StatusReport, at: datetime) -> UUID | None:
        rows = list(self.db.notifications.values())
        pid = report.provider_message_id
        if pid is not None:
            found = next((n.id for n in rows if n.provider_message_id == pid), None)
            if found is not None:
                return found
        if report.phone is None:
            return None
        earliest, latest = phone_window(at)
        candidates = [
            n
            for n in rows
            if n.phone == report.phone
            and n.provider_message_id is None
            and _went_out(n) is not None
        ]
        before = sorted(
            (n for n in candidates if earliest <= _went_out_at(n) <= at),
            key=_went_out_at,
            reverse=True,
        )
        after = sorted((n for n in candidates if at < _went_out_at(n) <= latest), key=_went_out_at)
        for found_rows in (before, after):
            if not found_rows:
                continue
            candidate = found_rows[0]
            if pid is not None:
                # Serial here: the compare-and-set on a NULL provider id always wins.
                self.db.notifications[candidate.id] = replace(candidate, provider_message_id=pid)
            return candidate.id
        return None


def _went_out(n: NotificationRow) -> datetime | None:
    """`sent_at`, or the claim's time of a row still `pending` (as the adapter's COALESCE)."""
    if n.sent_at is not None:
        return n.sent_at
    return n.claimed_at if n.status == NotificationStatus.PENDING.value else None


def _went_out_at(n: NotificationRow) -> datetime:
    at = _went_out(n)
    assert at is not None
    return at
