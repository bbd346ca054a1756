"""Read models of what happens around an order (CRM contact sync, WhatsApp notifications)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from uuid import UUID


@dataclass(frozen=True, slots=True)
class ContactSyncView:
    order_id: UUID  # the order's uuid (contact_syncs.order_uuid), the key loaders group by
    synced: bool
    contact_id: str | None
    created: bool | None
    attempts: int
    error_count: int
    last_error_category: str | None
    last_error: str | None
    last_attempt_at: datetime | None


@dataclass(frozen=True, slots=True)
class NotificationView:
    id: UUID
    order_id: UUID  # the order's uuid (notifications.order_uuid)
    kind: str
    item: str  # "" for an order's first message of a kind; `resend-<n>` for admin resends
    status: str
    template: str
    language: str
    phone: str
    provider_message_id: str | None
    sent_at: datetime | None
    delivered_at: datetime | None
    read_at: datetime | None
    failed_at: datetime | None
    failure_reason: str | None
    attempts: int
