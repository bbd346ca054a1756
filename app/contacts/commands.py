"""Contact sync commands: carried by the `sync_contact` job, handled through the bus."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from uuid import UUID


@dataclass(frozen=True)
class SyncContact:
    """Push the order's client to the CRM (idempotent: a synced order is left alone)."""

    order_uuid: UUID


class SyncOutcome(StrEnum):
    """What one run of the handler did; an attempt that fails raises instead."""

    SYNCED = "synced"
    ALREADY_SYNCED = "already_synced"
    UNKNOWN_ORDER = "unknown_order"
    NO_PHONE = "no_phone"
