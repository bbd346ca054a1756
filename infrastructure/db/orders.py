"""Write-side repositories: rows ↔ the Order aggregate, and the webhook payload archive."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any
from uuid import UUID

from sqlalchemy import case, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from app.ports import ArchivedPayload
from domain.orders.model import Order, OrderFlag, OrderStatus
from infrastructure.db.tables import orders, webhook_payloads

_SCALARS = [c.name for c in orders.columns if c.name not in ("flags", "order_status")]


def order_to_row(order: Order) -> dict[str, Any]:
    row = {name: getattr(order, name) for name in _SCALARS}
    row["order_status"] = order.order_status.value
    row["flags"] = [{"field": f.field, "issue": f.issue} for f in order.flags]
    return row


def order_from_row(row: Any) -> Order:
    data = dict(row._mapping)
    data["order_status"] = OrderStatus(data["order_status"])
    data["flags"] = [OrderFlag(f["field"], f["issue"]) for f in data["flags"] or []]
    return Order(**data)


class SqlOrders:
    """Orders over one connection of a unit of work; inserts are flushed at commit."""

    def __init__(self, conn: AsyncConnection) -> None:
        self._conn = conn
        self.added: list[Order] = []

    def add(self, order: Order) -> None:
        self.added.append(order)

    async def get(self, id: UUID, *, lock: bool = False) -> Order | None:
        stmt = select(orders).where(orders.c.id == id)
        if lock and self._conn.dialect.name == "postgresql":
            stmt = stmt.with_for_update()  # SQLite: BEGIN IMMEDIATE already serialises writers
        row = (await self._conn.execute(stmt)).first()
        return order_from_row(row) if row else None

    async def get_many(self, ids: Sequence[UUID]) -> dict[UUID, Order]:
        if not ids:
            return {}
        rows = await self._conn.execute(select(orders).where(orders.c.id.in_(ids)))
        return {row.id: order_from_row(row) for row in rows}

    async def get_by_order_id(self, order_id: str) -> Order | None:
        result = await self._conn.execute(select(orders).where(orders.c.order_id == order_id))
        row = result.first()
        return order_from_row(row) if row else None

    async def mark_processed(self, ids: Sequence[UUID], at: datetime) -> list[UUID]:
        result = await self._conn.execute(
            update(orders)
            .where(orders.c.id.in_(ids), orders.c.processed_at.is_(None))
            .values(processed_at=at, updated_at=at)
            .returning(orders.c.id)
        )
        return list(result.scalars())

    def pending_rows(self) -> list[dict[str, Any]]:
        """The added orders as rows, for the unit of work's commit."""
        return [order_to_row(o) for o in self.added]


class SqlWebhookPayloads:
    def __init__(self, conn: AsyncConnection) -> None:
        self._conn = conn
        self.added: list[ArchivedPayload] = []

    def add(self, payload: ArchivedPayload) -> None:
        self.added.append(payload)

    async def body_of_order(self, order_uuid: UUID) -> Any | None:
        """The body the order was created from (else the newest repeat that named it)."""
        accepted_first = case((webhook_payloads.c.status == "accepted", 0), else_=1)
        row = (
            await self._conn.execute(
                select(webhook_payloads.c.body)
                .where(webhook_payloads.c.order_uuid == order_uuid)
                .order_by(accepted_first, webhook_payloads.c.received_at.desc())
                .limit(1)
            )
        ).first()
        return row.body if row else None

    def pending_rows(self) -> list[dict[str, Any]]:
        """The archived bodies as rows, for the unit of work's commit."""
        return [
            {
                "id": p.id,
                "source": p.source,
                "external_order_id": p.external_order_id,
                "idempotency_key": p.idempotency_key,
                "status": p.status,
                "error": p.error,
                "order_uuid": p.order_uuid,
                "body": p.body,
                "received_at": p.received_at,
            }
            for p in self.added
        ]
