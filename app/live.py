"""Live notices: what subscribers hear after a change commits, and the ports that carry them.

A notice is published only after the transaction that made the change has committed (the unit
of work's after-commit hook, or the handler right after its own commit), so a rolled-back change
is never announced. Notices are small (a topic, a kind, the subject's id, when): subscribers
read what they show through the read handlers, under their own permissions, so a notice never
carries personal data across processes. Log lines are the exception: they are stored redacted,
and the stored line is what the notice carries.

Delivery is at most once. A process that is not connected to the fan-out (Redis restarting)
misses what was published meanwhile; its subscribers hear again from the next notice on.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any, Protocol
from uuid import UUID

from domain.events import DomainEvent
from domain.notifications.confirmation import KIND as CONFIRMATION
from domain.notifications.events import NotificationQueued
from domain.orders.model import OrderCreated, OrdersProcessed
from domain.workflows.model import WorkflowRunCanceled


class Topic(StrEnum):
    ORDERS = "orders"  # subject: the order's uuid
    RUNS = "runs"  # subject: the workflow run's uuid
    LOGS = "logs"  # subject: the log line's id; data: the stored (redacted) line
    BULK = "bulk"  # subject: the bulk operation's uuid


class OrderEventType(StrEnum):
    CREATED = "created"
    PROCESSED = "processed"
    CONTACT_SYNCED = "contact_synced"
    CONTACT_SYNC_FAILED = "contact_sync_failed"
    CONFIRMATION_QUEUED = "confirmation_queued"
    CONFIRMATION_SENT = "confirmation_sent"
    CONFIRMATION_DELIVERED = "confirmation_delivered"
    CONFIRMATION_READ = "confirmation_read"
    CONFIRMATION_FAILED = "confirmation_failed"


@dataclass(frozen=True)
class Notice:
    topic: Topic
    kind: str
    subject: str
    at: datetime
    data: Mapping[str, Any] = field(default_factory=dict)


def order_notice(kind: OrderEventType, order_uuid: UUID, at: datetime) -> Notice:
    return Notice(Topic.ORDERS, kind.value, str(order_uuid), at)


def run_notice(run_id: UUID, status: str, at: datetime) -> Notice:
    return Notice(Topic.RUNS, status, str(run_id), at)


def notices_of(events: Sequence[DomainEvent]) -> list[Notice]:
    """The notices a committed unit's domain events make."""
    out: list[Notice] = []
    for event in events:
        at = event.occurred_at
        if isinstance(event, OrderCreated):
            out.append(order_notice(OrderEventType.CREATED, event.aggregate_id, at))
        elif isinstance(event, OrdersProcessed):
            out.extend(
                Notice(Topic.ORDERS, OrderEventType.PROCESSED.value, id, at) for id in event.ids
            )
        elif isinstance(event, NotificationQueued) and event.kind == CONFIRMATION:
            out.append(order_notice(OrderEventType.CONFIRMATION_QUEUED, event.aggregate_id, at))
        elif isinstance(event, WorkflowRunCanceled):
            out.append(run_notice(event.aggregate_id, "canceled", at))
    return out


class Feed(Protocol):
    """The publishing side, in every process that changes things (API, worker, scheduler)."""

    async def publish(self, notices: Sequence[Notice]) -> None:
        """Hand the notices to every API process's subscribers. Never raises: a notice that
        cannot be published is lost (logged and counted), the committed change is not."""
        ...


class Dropped(Exception):
    """The subscriber fell behind by more than its buffer: it is dropped, not waited for."""


class Listener(Protocol):
    """One subscriber's notices of one topic, in order, from a bounded buffer."""

    def __aiter__(self) -> AsyncIterator[Notice]: ...

    def close(self) -> None: ...


class Hub(Protocol):
    """The receiving side, in API processes: local subscribers of what any process published."""

    def listen(self, topic: Topic) -> Listener: ...


class LiveMetrics(Protocol):
    """What /metrics says of subscriptions (infrastructure.metrics implements it)."""

    def live_connections(self, transport: str, delta: int) -> None: ...

    def live_subscriptions(self, field: str, delta: int) -> None: ...

    def live_fanned_out(self, topic: str, count: int) -> None: ...

    def live_dropped(self, topic: str) -> None: ...
