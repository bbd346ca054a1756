"""Fake bulk operations over the FakeStore: the same behaviour as infrastructure/db/bulk.py."""

from __future__ import annotations

import copy
from datetime import datetime
from uuid import UUID

from app.bulk.ports import BulkOperationView
from domain.orders.specs import Spec
from tests.fakes.store import FakeStore, Staged


class FakeBulkOperations:
    def __init__(self, store: FakeStore) -> None:
        self.store = store
        self.rows: Staged[UUID, BulkOperationView] = Staged(store.bulk_operations)
        self.items: Staged[UUID, list[UUID]] = Staged(store.bulk_orders)

    async def add(self, operation: BulkOperationView, spec: Spec | None) -> int:
        # The orders of this unit's view (committed plus staged), oldest first.
        orders = sorted(
            (o for o in self.store.orders.values() if spec is None or spec.is_satisfied_by(o)),
            key=lambda o: (o.created_at, str(o.id)),
        )
        operation.total = len(orders)
        self.rows.put(operation.id, copy.deepcopy(operation))
        self.items.put(operation.id, [o.id for o in orders])
        return operation.total

    async def get(self, id: UUID, *, lock: bool = False) -> BulkOperationView | None:
        found = self.rows.get(id)
        return copy.deepcopy(found) if found is not None else None

    async def orders(self, id: UUID, position: int, count: int) -> list[UUID]:
        return list((self.items.get(id) or [])[position : position + count])

    async def save(self, operation: BulkOperationView, at: datetime) -> None:
        self.rows.put(operation.id, copy.deepcopy(operation))


class FakeBulkReads:
    def __init__(self, store: FakeStore) -> None:
        self.store = store

    async def by_id(self, id: UUID) -> BulkOperationView | None:
        found = self.store.bulk_operations.get(id)
        return copy.deepcopy(found) if found is not None else None

    async def page(
        self, first: int, after: tuple[datetime, UUID] | None
    ) -> list[BulkOperationView]:
        ordered = sorted(
            self.store.bulk_operations.values(),
            key=lambda o: (o.created_at, str(o.id)),
            reverse=True,
        )
        if after is not None:
            ordered = [o for o in ordered if (o.created_at, str(o.id)) < (after[0], str(after[1]))]
        return [copy.deepcopy(o) for o in ordered[:first]]


class FakeErasure:
    """Erases the orders' personal fields in the store (the SQL adapter does every table)."""

    def __init__(self, store: FakeStore) -> None:
        self.store = store

    async def erase(self, order_ids: list[UUID], reason: str) -> int:
        erased = 0
        for id in order_ids:
            order = self.store.orders.get(id)
            if order is not None:
                order.client_name, order.client_email, order.client_phone = "[erased]", None, None
                erased += 1
        return erased
