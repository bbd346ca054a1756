"""Delivery events from Meta: store each one raw, then move notifications forward by them.

Kept apart from the sending side (commands and handlers of the confirmation job): this path is
driven by the vendor's webhook, shares no state with a send but the notification row, and
answers the vendor quickly whatever it finds (an unmatched event is stored and marked, never an
error: Meta would retry it for days).
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any, Protocol
from uuid import UUID

from app.live import Feed, Notice, OrderEventType, order_notice
from app.logs.ports import BusinessLog, LogLevel
from domain.notifications.confirmation import KIND as CONFIRMATION
from domain.notifications.delivery import StatusReport, change_fields, status_reports
from domain.notifications.status import NotificationStatus
from domain.orders.text import without_nul

log = logging.getLogger("visapi.deliveries")


@dataclass(frozen=True)
class RecordDeliveryEvents:
    """One accepted webhook body: parsed JSON, or the raw text when it was not JSON."""

    payload: Any
    well_formed: bool = True
    signature_verified: bool = True


class EventStatus(StrEnum):
    RECEIVED = "received"  # stored, not yet applied (a crash in between leaves it so)
    PROCESSED = "processed"  # applied to a notification (or matched one already further on)
    UNMATCHED = "unmatched"  # no notification of ours fits it
    IGNORED = "ignored"  # nothing to apply: not a status we track (messages, templates, ...)
    FAILED = "failed"  # malformed, or applying it raised


class Applied(StrEnum):
    STALE = "stale"  # matched, but the notification is already as far or further
    UNMATCHED = "unmatched"


@dataclass(frozen=True)
class Advanced:
    """The report moved a notification forward: of which order and kind, to what status."""

    order_uuid: UUID
    kind: str
    status: NotificationStatus


# What subscribers hear of an order confirmation's delivery statuses.
CONFIRMATION_EVENTS = {
    NotificationStatus.SENT: OrderEventType.CONFIRMATION_SENT,
    NotificationStatus.DELIVERED: OrderEventType.CONFIRMATION_DELIVERED,
    NotificationStatus.READ: OrderEventType.CONFIRMATION_READ,
    NotificationStatus.FAILED: OrderEventType.CONFIRMATION_FAILED,
}


@dataclass(frozen=True)
class DeliveryEvent:
    id: UUID
    payload: Any
    signature_verified: bool
    event_type: str | None
    provider_message_id: str | None
    phone: str | None
    received_at: datetime


class Deliveries(Protocol):
    async def store(self, events: Sequence[DeliveryEvent]) -> None:
        """Insert the events with status `received`, in one transaction."""
        ...

    async def apply(self, report: StatusReport, at: datetime) -> Applied | Advanced:
        """Match the report to a notification (provider id, else phone within the window of
        `at`, taking the id) and move it forward when the report is later than its status."""
        ...

    async def mark(self, statuses: Mapping[UUID, EventStatus]) -> None: ...


@dataclass(frozen=True)
class DeliveriesRecorded:
    counts: Mapping[str, int]  # events per processing status


async def record_delivery_events(
    cmd: RecordDeliveryEvents,
    *,
    deliveries: Deliveries,
    now: Callable[[], datetime],
    new_id: Callable[[], UUID],
    feed: Feed | None = None,
    business_log: BusinessLog | None = None,
) -> DeliveriesRecorded:
    received = now()
    # PostgreSQL refuses U+0000 in the JSONB payload and in the ids and phones read from it:
    # replaced before anything is read, as in an order's body.
    payload = without_nul(cmd.payload)

    def event(event_type: str | None, report: StatusReport | None = None) -> DeliveryEvent:
        return DeliveryEvent(
            id=new_id(),
            payload=payload,
            signature_verified=cmd.signature_verified,
            event_type=event_type,
            provider_message_id=report.provider_message_id if report else None,
            phone=report.phone if report else None,
            received_at=received,
        )

    reports = status_reports(payload) if cmd.well_formed else []
    pairs: list[tuple[DeliveryEvent, StatusReport | None]]
    if reports:
        # One row per status: an unmatched one is then found by its own provider id or phone.
        pairs = [(event(r.event_type, r), r) for r in reports]
    else:
        fields = change_fields(payload) if cmd.well_formed else []
        pairs = [(event(fields[0] if fields else None), None)]
    await deliveries.store([e for e, _ in pairs])

    statuses: dict[UUID, EventStatus] = {}
    notices: list[Notice] = []
    for stored, report in pairs:
        statuses[stored.id] = await _apply(deliveries, report, cmd.well_formed, received, notices)
    await deliveries.mark(statuses)
    if notices and feed is not None:
        await feed.publish(notices)  # each status is committed by `apply` itself
    if business_log is not None:
        for notice in notices:
            what = notice.kind.removeprefix("confirmation_")
            await business_log.write(
                LogLevel.INFO if what != "failed" else LogLevel.WARN,
                f"confirmation of order {notice.subject} {what} (Meta)",
                metadata={"order_uuid": notice.subject, "status": what},
            )
    return DeliveriesRecorded(counts=dict(Counter(s.value for s in statuses.values())))


async def _apply(
    deliveries: Deliveries,
    report: StatusReport | None,
    well_formed: bool,
    received: datetime,
    notices: list[Notice],
) -> EventStatus:
    if not well_formed:
        return EventStatus.FAILED
    if report is None or report.status is None:
        return EventStatus.IGNORED
    if report.provider_message_id is None and report.phone is None:
        return EventStatus.UNMATCHED
    try:
        applied = await deliveries.apply(report, report.at or received)
    except Exception:
        # The raw event is stored; the vendor hears 200 and an admin can replay it.
        log.exception("applying delivery status %s failed", report.provider_message_id)
        return EventStatus.FAILED
    if applied is Applied.UNMATCHED:
        log.info("delivery status %s matched no notification", report.provider_message_id)
        return EventStatus.UNMATCHED
    if isinstance(applied, Advanced) and applied.kind == CONFIRMATION:
        kind = CONFIRMATION_EVENTS[applied.status]
        notices.append(order_notice(kind, applied.order_uuid, report.at or received))
    return EventStatus.PROCESSED
