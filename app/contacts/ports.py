"""Contact sync ports: the CRM adapter, the error it raises, and the repository of sync rows."""

from __future__ import annotations

from collections.abc import Mapping
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol
from uuid import UUID

# DOMAIN.md "Contact sync": every vendor failure is reported in one of these categories.
ERROR_CATEGORIES = frozenset(
    {"timeout", "network", "auth", "rate_limit", "validation", "vendor_error"}
)


@dataclass(frozen=True)
class Contact:
    """What the CRM receives; the full custom-field map comes with the CBB adapter."""

    phone: str
    name: str
    email: str | None
    language: str


class ContactSyncError(Exception):
    """A categorised vendor failure; the job records it and is retried by the broker."""

    def __init__(self, category: str, message: str) -> None:
        if category not in ERROR_CATEGORIES:
            raise ValueError(f"unknown contact sync error category {category!r}")
        super().__init__(f"{category}: {message}")
        self.category = category
        self.message = message


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
