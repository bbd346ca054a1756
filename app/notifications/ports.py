"""Messaging ports: the WhatsApp sender (through the CRM), the message it sends, and the
repositories of notification rows and of templates and translations."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol
from uuid import UUID

from app.orders.side_views import NotificationView
from app.vendors import VendorError
from domain.notifications.confirmation import Template
from domain.notifications.texts import Translations


@dataclass(frozen=True)
class TemplateMessage:
    """One WhatsApp template message. `params` are the body parameters, in template order;
    `reference` is our notification id, passed as the vendor's opaque callback data."""

    phone: str
    template: str
    language: str
    params: Sequence[str]
    reference: str


class MessagingError(VendorError):
    """A categorised failure of the messaging vendor."""


class Messaging(Protocol):
    """Sends template messages. Returns the vendor's message id when it gives one (CBB does
    not: delivery events are then matched by phone within minutes of sending)."""

    async def send_template(self, message: TemplateMessage) -> str | None: ...


@dataclass(frozen=True)
class NewNotification:
    id: UUID
    order_uuid: UUID
    kind: str
    item: str
    template: str
    language: str
    params: list[str]
    phone: str
    created_at: datetime


@dataclass(frozen=True)
class Claimed:
    """A notification this attempt holds: only the holder of `token` may record its outcome."""

    id: UUID
    token: str
    phone: str
    template: str
    language: str
    params: list[str]


@dataclass(frozen=True)
class ClaimState:
    """Where a notification stands, read when a claim did not succeed."""

    status: str
    claimed_at: datetime | None


class Notifications(Protocol):
    """The `notifications` rows, on the connection of a unit of work."""

    async def add(self, row: NewNotification) -> bool:
        """Insert; False when the order already has a row of that kind and item."""
        ...

    async def of_order(self, order_uuid: UUID, kind: str) -> list[NotificationView]: ...

    async def state(self, id: UUID) -> ClaimState | None: ...

    async def claim(
        self, ids: Sequence[UUID], token: str, at: datetime, stale_before: datetime
    ) -> dict[UUID, Claimed]:
        """Take the rows (status `pending`, `claimed_at`, `claim_token`, one more attempt) that
        are `queued`, or `pending` with a claim older than `stale_before`, in one statement;
        the claims taken, by id (a row missing was not taken)."""
        ...

    async def release(self, id: UUID, token: str, reason: str, at: datetime) -> bool:
        """Back to `queued` after a failed send, only while `token` holds the claim."""
        ...

    async def record_sent(
        self, id: UUID, token: str, provider_message_id: str | None, at: datetime
    ) -> UUID | None:
        """`sent`, only while `token` holds the claim: the order's uuid, None when not held."""
        ...

    async def record_failed(self, id: UUID, token: str, reason: str, at: datetime) -> UUID | None:
        """`failed`, only while `token` holds the claim: as `record_sent`."""
        ...


class MessageTexts(Protocol):
    """Templates and translations, seeded by migration and editable by operators."""

    async def template(self, name: str, language: str) -> Template | None: ...

    async def translations(self, language: str) -> Translations: ...
