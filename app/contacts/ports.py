"""Contact sync ports: the CRM adapter, the error it raises, and the repository of sync rows."""

from __future__ import annotations

from collections.abc import Mapping
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol
from uuid import UUID

from app.vendors import ERROR_CATEGORIES, VendorError
from domain.contacts.fields import CustomField

__all__ = ["ERROR_CATEGORIES", "Contact", "ContactSync", "ContactSyncError"]


@dataclass(frozen=True)
class Contact:
    """What the CRM receives: basic fields (set on creation only: the CRM refuses changes to
    them) and every custom field (set on creation, updated one by one for a known contact)."""

    phone: str
    name: str
    email: str | None
    language: str
    gender: str | None = None  # "male" | "female" | None
    fields: tuple[CustomField, ...] = ()


class ContactSyncError(VendorError):
    """A categorised failure of the CRM; the job records it, then retries or dead-letters."""


class ContactSync(Protocol):
    """The CRM: create the contact when the phone is new, else update it."""

    async def upsert(self, contact: Contact) -> tuple[str, bool]:
        """Return the vendor's contact id and whether the contact was created."""
        ...


@dataclass(frozen=True)
class OrderContact:
    """The part of an order the sync reads."""

    order_uuid: UUID
    branch: str
    name: str
    email: str | None
    phone: str | None


class ContactSyncs(Protocol):
    """The `contact_syncs` rows, inside one transaction."""

    async def order_contact(self, order_uuid: UUID) -> OrderContact | None: ...

    async def ensure(
        self, order_uuid: UUID, language: str, translated: Mapping[str, Any], at: datetime
    ) -> None:
        """Create the row of the order unless it exists."""
        ...

    async def begin_attempt(self, order_uuid: UUID, at: datetime) -> int | None:
        """Count one more attempt; return the attempt number, or None when already synced."""
        ...

    async def record_success(
        self, order_uuid: UUID, contact_id: str, created: bool, at: datetime
    ) -> None: ...

    async def record_failure(
        self, order_uuid: UUID, category: str, message: str, at: datetime
    ) -> None: ...


class ContactSyncsFactory(Protocol):
    """Opens one transaction; commits when the block exits cleanly, rolls back otherwise."""

    def __call__(self) -> AbstractAsyncContextManager[ContactSyncs]: ...
