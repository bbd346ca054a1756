"""Contact sync ports: the CRM adapter, the error it raises, and the repository of sync rows."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol
from uuid import UUID

from app.vendors import ERROR_CATEGORIES, VendorError
from domain.contacts.fields import CustomField

__all__ = ["ERROR_CATEGORIES", "Contact", "ContactSync", "ContactSyncError", "ContactSyncs"]


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
    """The CRM: create the contact when the phone is new, else update it (every custom field)."""

    async def upsert(self, contact: Contact) -> tuple[str, bool]:
        """Return the vendor's contact id and whether the contact was created."""
        ...


class ContactSyncs(Protocol):
    """The `contact_syncs` rows, on the connection of a unit of work."""

    async def upsert(
        self, order_uuid: UUID, language: str, translated: Mapping[str, Any], at: datetime
    ) -> None:
        """Create the row of the order, or refresh its language and translated fields."""
        ...

    async def begin_attempt(self, order_uuid: UUID, at: datetime, *, force: bool) -> int | None:
        """Count one more attempt; return the attempt number, or None when already synced
        (`force`: count it anyway, an admin resync pushes a synced contact again)."""
        ...

    async def is_synced(self, order_uuid: UUID) -> bool: ...

    async def record_success(
        self, order_uuid: UUID, contact_id: str, created: bool, at: datetime
    ) -> None: ...

    async def record_failure(
        self, order_uuid: UUID, category: str, message: str, at: datetime
    ) -> None: ...
