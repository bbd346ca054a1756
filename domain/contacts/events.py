"""Contact sync events."""

from __future__ import annotations

from dataclasses import dataclass

from domain.events import DomainEvent


@dataclass(frozen=True, kw_only=True)
class ContactResyncRequested(DomainEvent):
    """An admin asked to push the order's contact to the CRM again, even if it is synced."""

    type = "contact.resync_requested"
    aggregate_type = "order"
