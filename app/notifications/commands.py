"""Notification commands: the `send_notification` job and the admin resend."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from uuid import UUID

from app.orders.side_views import NotificationView


@dataclass(frozen=True)
class SendNotification:
    notification_id: UUID


@dataclass(frozen=True)
class RecordSent:
    """Record that the vendor accepted a notification's message, under the claim that sent it."""

    notification_id: UUID
    claim_token: str
    provider_message_id: str | None


class SendOutcome(StrEnum):
    """How a delivery of the job ended when it did not raise (acknowledged)."""

    SENT = "sent"
    ALREADY_SENT = "already_sent"
    FAILED_BEFORE = "failed_before"  # a permanent failure was recorded; only a resend helps
    UNKNOWN = "unknown"


@dataclass(frozen=True)
class ResendConfirmation:
    """Admin repair: send the order confirmation again. Without `force`, refused once one was
    sent; with it, a new row is sent whatever happened before. `phone` replaces the order's."""

    order_uuid: UUID
    force: bool = False
    phone: str | None = None
    actor: str | None = None
    correlation_id: str | None = None


@dataclass(frozen=True)
class ConfirmationQueued:
    notification: NotificationView
    created: bool  # False: an unsent confirmation was already queued; its job is queued again
