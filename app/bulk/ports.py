"""The bulk operations' rows: written on the unit of work, read by the query side."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol
from uuid import UUID

from domain.orders.bulk import BulkKind, BulkStatus
from domain.orders.specs import Spec


@dataclass(frozen=True)
class BulkFailure:
    order_id: UUID
    message: str


@dataclass
class BulkOperationView:
    id: UUID
    kind: BulkKind
    filter: Any  # the filter as the caller gave it (JSON)
    force: bool
    status: BulkStatus
    total: int
    done: int
    failed: int
    position: int  # the first order not yet in a finished batch
    failures: list[BulkFailure] = field(default_factory=list)
    actor: str | None = None
    created_at: datetime | None = None
    finished_at: datetime | None = None


class BulkOperations(Protocol):
    """On a unit of work's connection."""

    async def add(self, operation: BulkOperationView, spec: Spec | None) -> int:
        """The operation and the orders `spec` matches now (None: all), oldest first at
        positions 0..total-1, in as few statements as can be; their count."""
        ...

    async def get(self, id: UUID, *, lock: bool = False) -> BulkOperationView | None: ...

    async def orders(self, id: UUID, position: int, count: int) -> list[UUID]: ...

    async def save(self, operation: BulkOperationView, at: datetime) -> None:
        """Progress, status and failures as they are now."""
        ...


class BulkReads(Protocol):
    async def by_id(self, id: UUID) -> BulkOperationView | None: ...

    async def page(
        self, first: int, after: tuple[datetime, UUID] | None
    ) -> list[BulkOperationView]:
        """Newest first; `first + 1` rows asked for tell whether there is a next page."""
        ...
