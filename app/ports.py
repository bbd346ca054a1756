"""Ports: what the application needs from the outside world, named by role (typing.Protocol)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from types import TracebackType
from typing import Any, Protocol, Self
from uuid import UUID

from app.auth.ports import ApiKeys, Users
from app.bulk.ports import BulkOperations
from app.contacts.ports import ContactSyncs
from app.documents.ports import Documents
from app.jobs import Job
from app.live import Notice
from app.logs.ports import UnitLogs
from app.notifications.ports import MessageTexts, Notifications
from app.orders.side_views import ContactSyncView, NotificationView
from app.orders.views import EventView, Keyset, OrderPage, OrderView, Sort, StatsBucket, StatsGroup
from app.privacy.ports import Erasure
from app.queues.ports import FailedJobs
from app.workflows.ports import WorkflowRuns, Workflows
from domain.orders.model import Order, OrderCreated
from domain.orders.specs import Spec


class OrderAlreadyExists(Exception):
    """The unique `order_id` was taken by a concurrent insert; the caller answers `duplicate`."""


@dataclass(frozen=True)
class ArchivedPayload:
    """One inbound body as received, with what became of it."""

    id: UUID
    source: str
    body: Any
    status: str  # accepted | duplicate | skipped | rejected
    received_at: datetime
    external_order_id: str | None = None
    idempotency_key: str | None = None
    error: str | None = None
    order_uuid: UUID | None = None


class Orders(Protocol):
    """Write-side repository of the Order aggregate."""

    def add(self, order: Order) -> None: ...

    async def get(self, id: UUID, *, lock: bool = False) -> Order | None:
        """`lock`: hold the row until commit (serialises repairs of one order)."""
        ...

    async def get_many(self, ids: Sequence[UUID]) -> dict[UUID, Order]:
        """The orders among `ids` that exist, by id (one statement)."""
        ...

    async def get_by_order_id(self, order_id: str) -> Order | None: ...

    async def mark_processed(self, ids: Sequence[UUID], at: datetime) -> list[UUID]:
        """Set processed_at on the unprocessed ones among `ids`; return those changed."""
        ...


class WebhookPayloads(Protocol):
    def add(self, payload: ArchivedPayload) -> None: ...

    async def body_of_order(self, order_uuid: UUID) -> Any | None:
        """The archived body the order was created from; None when none was kept."""
        ...


class UnitOfWork(Protocol):
    """One transaction; on commit it also stores the recorded events and the jobs they cause."""

    orders: Orders
    payloads: WebhookPayloads
    api_keys: ApiKeys
    users: Users
    contact_syncs: ContactSyncs
    notifications: Notifications
    texts: MessageTexts
    failed_jobs: FailedJobs
    workflows: Workflows
    runs: WorkflowRuns
    logs: UnitLogs
    documents: Documents
    bulk: BulkOperations
    erasure: Erasure

    async def __aenter__(self) -> Self: ...

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None: ...

    def record(self, events: Sequence[Any]) -> None:
        """Events not tied to one loaded aggregate (batch operations)."""
        ...

    def announce(self, notices: Sequence[Notice]) -> None:
        """Live notices to publish once the unit has committed (never on a rollback)."""
        ...

    async def commit(self) -> None: ...

    async def rollback(self) -> None: ...


class UnitOfWorkFactory(Protocol):
    def __call__(
        self, *, actor: str | None = None, correlation_id: str | None = None
    ) -> UnitOfWork: ...


# What an order starts in its own transaction besides its jobs: the workflows keyed by its
# country (DOMAIN.md "Order intake"). Asked in two steps so the lookup (a cached read) stays
# out of the transaction: `OrderStarts(order)` before the unit of work opens answers None
# (nothing to start) or a callable that adds the runs inside the unit, given the order's
# event; it returns how many it started. Bound in visapi/slices/orders.py to
# app.workflows.orders.
StartInUnit = Callable[[UnitOfWork, OrderCreated], Awaitable[int]]
OrderStarts = Callable[[Order], Awaitable[StartInUnit | None]]


class OrderReads(Protocol):
    """Query side of orders: plain read models, never entities."""

    async def by_ids(self, ids: Sequence[UUID]) -> list[OrderView]: ...

    async def by_order_id(self, order_id: str) -> OrderView | None: ...

    async def page(
        self, spec: Spec | None, sort: Sequence[Sort], first: int, after: Keyset | None
    ) -> OrderPage: ...

    async def count(self, spec: Spec | None) -> int: ...

    async def stats(self, spec: Spec | None, group: StatsGroup) -> list[StatsBucket]: ...

    async def events_for(self, aggregate_ids: Sequence[UUID]) -> dict[UUID, list[EventView]]: ...

    async def contact_syncs_for(self, order_ids: Sequence[UUID]) -> dict[UUID, ContactSyncView]:
        """The sync row of each order that has one (at most one per order)."""
        ...

    async def notifications_for(
        self, order_ids: Sequence[UUID]
    ) -> dict[UUID, list[NotificationView]]:
        """Each order's notifications, oldest first; orders without any are absent."""
        ...


class CacheUnavailable(Exception):
    """The cache could not confirm a `seal` or `unseal` (it is unreachable)."""


# How long a seal whose `unseal` never came (its process died, Redis failed) keeps refusing
# stores; when it lapses the prefix is evicted once more.
SEAL_LEASE_S = 60.0


class Cache(Protocol):
    """Key/value cache with per-prefix generations: `evict(prefix)` drops a prefix's keys in O(1).

    Backends must never raise on a read or write failure: a broken cache is a miss. The one
    exception is `seal`/`unseal`, which raise CacheUnavailable unless the backend confirmed them.
    A read-through cache uses `lookup`, then on a miss `set(..., generation=<the one looked in>)`:
    a value computed from data older than an eviction is then dropped, not stored as current.
    """

    async def get(self, prefix: str, key: str) -> bytes | None: ...

    async def lookup(self, prefix: str, key: str) -> tuple[bytes | None, int | None]:
        """The value (None: miss) and the prefix's generation it was looked up in.

        The generation is None when the backend could not be asked; then store nothing.
        """
        ...

    async def set(
        self, prefix: str, key: str, value: bytes, ttl: float, *, generation: int | None = None
    ) -> None:
        """Store in the current generation, or only if it is still `generation` (else drop)."""
        ...

    async def delete(self, prefix: str, key: str) -> None: ...

    async def evict(self, *prefixes: str) -> None:
        """Drop every key of each prefix (one round trip for all of them)."""
        ...

    async def seal(self, prefix: str, token: str) -> None:
        """Evict the prefix and refuse every store into it while the seal `token` holds: until
        `unseal(prefix, token)` or `SEAL_LEASE_S`. Raises CacheUnavailable if not confirmed."""
        ...

    async def unseal(self, prefix: str, token: str) -> None:
        """Lift the seal `token` and evict the prefix again. Raises CacheUnavailable if not
        confirmed (the seal then holds until its lease lapses)."""
        ...

    def stats(self) -> dict[str, tuple[int, int]]:
        """Hits and misses per prefix counted by this process."""
        ...


@dataclass(frozen=True)
class StoredEvent:
    """A row of the `events` table: the audit trail, and the source of a replay."""

    id: UUID
    type: str
    aggregate_id: UUID
    payload: dict[str, Any]
    actor: str | None
    occurred_at: datetime


class EventLog(Protocol):
    """Reads stored events by time: `start <= occurred_at < end`, of the given types."""

    async def runs_of_orders(self, order_ids: Sequence[UUID]) -> dict[UUID, list[UUID]]:
        """The workflow runs each order started (their context names the order)."""
        ...

    async def count(self, start: datetime, end: datetime, types: Sequence[str]) -> int: ...

    async def page(
        self,
        start: datetime,
        end: datetime,
        types: Sequence[str],
        after: tuple[datetime, UUID] | None,
        limit: int,
    ) -> list[StoredEvent]:
        """Oldest first (occurred_at, then id), after the keyset `after`."""
        ...


class JobOutbox(Protocol):
    """Writes jobs to the outbox outside any change (a replay) and publishes them."""

    async def add(self, jobs: Sequence[Job], *, correlation_id: str | None) -> int:
        """Store the jobs in one transaction, then publish them; return how many were stored."""
        ...
