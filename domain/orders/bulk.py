"""Bulk operations: one repair or update applied to every order a filter matched when it
started, in batches, resumable from the last finished batch."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import ClassVar

from domain.events import DomainEvent

BATCH = 50  # orders per batch: one transaction, one UPDATE for the updates
MAX_FAILURES = 20  # failed orders remembered with their reasons (the count has them all)


class BulkKind(StrEnum):
    MARK_PROCESSED = "mark_processed"
    RESYNC_CONTACTS = "resync_contacts"
    RESEND_CONFIRMATIONS = "resend_confirmations"
    RETRIGGER_ORDERS = "retrigger_orders"
    ERASE_CUSTOMER = "erase_customer"


class BulkStatus(StrEnum):
    RUNNING = "running"
    FINISHED = "finished"
    CANCELED = "canceled"


@dataclass(frozen=True, kw_only=True)
class BulkBatchDue(DomainEvent):
    """A bulk operation has a batch to run from `position` on: its job goes to the outbox with
    the change that made it due (the start, or the batch before), so batches chain exactly."""

    type: ClassVar[str] = "bulk.batch_due"
    aggregate_type: ClassVar[str] = "bulk_operation"
    position: int
