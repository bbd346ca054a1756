"""Contact sync commands: carried by the `sync_contact` job, or sent by an admin."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from uuid import UUID


@dataclass(frozen=True)
class SyncContact:
    """Push the order's client to the CRM (idempotent: a synced order is left alone unless
    `resync`, which pushes every custom field again)."""

    order_uuid: UUID
    resync: bool = False


@dataclass(frozen=True)
class ResyncContact:
    """Admin repair: queue the order's contact sync again, through the outbox."""

    order_uuid: UUID
    actor: str | None = None
    correlation_id: str | None = None


class SyncOutcome(StrEnum):
    """What one run of the handler did; an attempt that fails raises instead."""

    SYNCED = "synced"
    ALREADY_SYNCED = "already_synced"
    UNKNOWN_ORDER = "unknown_order"
    NO_PHONE = "no_phone"
    INVALID_CONTACT = "invalid_contact"
