"""Notification events: recorded on the order's timeline, each causing one send job."""

from __future__ import annotations

from dataclasses import dataclass

from domain.events import DomainEvent


@dataclass(frozen=True, kw_only=True)
class NotificationQueued(DomainEvent):
    """A notification row was created (or put back to `queued`) and must be sent.

    The aggregate is the order, so the order's event list shows its messages."""

    type = "notification.queued"
    aggregate_type = "order"

    notification_id: str
    kind: str
    item: str
