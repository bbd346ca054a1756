"""Rows of the fake tables that have no domain entity, with the columns the migrations give them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from app.orders.side_views import ContactSyncView, NotificationView


@dataclass(frozen=True)
class ContactSyncRow:
    order_uuid: UUID
    language: str
    translated_fields: dict[str, Any]
    created_at: datetime
    updated_at: datetime
    synced: bool = False
    contact_id: str | None = None
    created: bool | None = None
    attempts: int = 0
    last_attempt_at: datetime | None = None
    error_count: int = 0
    last_error_category: str | None = None
    last_error: str | None = None

    def view(self) -> ContactSyncView:
        return ContactSyncView(
            order_id=self.order_uuid,
            synced=self.synced,
            contact_id=self.contact_id,
            created=self.created,
            attempts=self.attempts,
            error_count=self.error_count,
            last_error_category=self.last_error_category,
            last_error=self.last_error,
            last_attempt_at=self.last_attempt_at,
        )


@dataclass(frozen=True)
class NotificationRow:
    id: UUID
    order_uuid: UUID
    kind: str
    item: str
    template: str
    language: str
    params: list[str]
    phone: str
    status: str
    created_at: datetime
    updated_at: datetime
    claimed_at: datetime | None = None
    claim_token: str | None = None
    attempts: int = 0
    provider_message_id: str | None = None
    sent_at: datetime | None = None
    delivered_at: datetime | None = None
    read_at: datetime | None = None
    failed_at: datetime | None = None
    failure_reason: str | None = None

    def view(self) -> NotificationView:
        return NotificationView(
            id=self.id,
            order_id=self.order_uuid,
            kind=self.kind,
            item=self.item,
            status=self.status,
            template=self.template,
            language=self.language,
            phone=self.phone,
            provider_message_id=self.provider_message_id,
            sent_at=self.sent_at,
            delivered_at=self.delivered_at,
            read_at=self.read_at,
            failed_at=self.failed_at,
            failure_reason=self.failure_reason,
            attempts=self.attempts,
        )
