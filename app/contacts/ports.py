"""Contact sync ports: the CRM adapter, the error it raises, and the repository of sync rows."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
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


@dataclass(frozen=True)
class SyncStart:
    """What an attempt stores on the order's sync row before calling the CRM."""

    order_uuid: UUID
    language: str
    translated: Mapping[str, Any]


class ContactSyncs(Protocol):
    """The `contact_syncs` rows, on the connection of a unit of work."""

    async def begin_attempts(
        self, starts: Sequence[SyncStart], at: datetime, *, force: bool
    ) -> dict[UUID, int]:
        """One statement for a group: create each order's row or refresh its language and
        translated fields, and count one more attempt; return the attempt numbers of the rows
        whose attempt began. A synced row is left as it is and missing from the answer, unless
        `force` (an admin resync pushes a synced contact again). Order ids are distinct."""
        ...

    async def is_synced(self, order_uuid: UUID) -> bool: ...

    async def record_success(
        self, order_uuid: UUID, contact_id: str, created: bool, at: datetime
    ) -> None: ...

    async def record_failure(
        self, order_uuid: UUID, category: str, message: str, at: datetime
    ) -> None: ...
