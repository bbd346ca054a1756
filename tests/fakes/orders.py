"""Fakes of the order, payload and unit-log repositories (infrastructure/db/orders.py, logs.py)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import datetime
from typing import Any
from uuid import UUID

from app.ports import ArchivedPayload
from domain.orders.model import Order
from tests.fakes.store import FakeStore, Staged, detached


class FakeOrders:
    """New orders are inserted at commit (where a taken order id fails), as SqlOrders does:
    `get` does not see an order added in the same unit."""

    def __init__(self, store: FakeStore) -> None:
        self.rows: Staged[UUID, Order] = Staged(store.orders, detached)
        self.added: list[Order] = []

    def add(self, order: Order) -> None:
        self.added.append(order)

    async def get(self, id: UUID, *, lock: bool = False) -> Order | None:
        return self.rows.get(id)

    async def get_many(self, ids: Sequence[UUID]) -> dict[UUID, Order]:
        found = {i: self.rows.get(i) for i in ids}
        return {i: order for i, order in found.items() if order is not None}

    async def get_by_order_id(self, order_id: str) -> Order | None:
        return next((o for o in self.rows.values() if o.order_id == order_id), None)

    async def mark_processed(self, ids: Sequence[UUID], at: datetime) -> list[UUID]:
        changed = []
        for i in dict.fromkeys(ids):
            order = self.rows.get(i)
            if order is not None and order.processed_at is None:
                self.rows.put(i, replace(order, processed_at=at, updated_at=at))
                changed.append(i)
        return changed


class FakePayloads:
    def __init__(self, store: FakeStore) -> None:
        self.store = store
        self.added: list[ArchivedPayload] = []

    def add(self, payload: ArchivedPayload) -> None:
        self.added.append(payload)

    async def body_of_order(self, order_uuid: UUID) -> Any | None:
        # The accepted body first, else the newest repeat that named the order.
        named = [p for p in self.store.payloads if p.order_uuid == order_uuid]
        named.sort(key=lambda p: p.received_at, reverse=True)
        named.sort(key=lambda p: p.status != "accepted")
        return named[0].body if named else None


class FakeUnitLogs:
    def __init__(self, correlation_id: str | None = None) -> None:
        self.correlation_id = correlation_id
        self.added: list[dict[str, Any]] = []

    def add(
        self,
        level: Any,
        message: str,
        *,
        metadata: Mapping[str, Any] | None = None,
        workflow_id: Any = None,
        job_id: str | None = None,
    ) -> None:
        self.added.append(
            {
                "level": str(level),
                "message": message,
                "metadata": dict(metadata or {}),
                "correlation_id": self.correlation_id,
                "workflow_id": workflow_id,
                "job_id": job_id,
            }
        )
