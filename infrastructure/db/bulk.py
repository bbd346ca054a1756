"""Bulk operations in SQL: written on a unit of work's connection (the orders a filter matches
copied in one INSERT ... SELECT), read by id and in pages."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from sqlalchemy import func, insert, literal, select, tuple_, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from app.bulk.ports import BulkFailure, BulkOperationView
from domain.orders.bulk import BulkKind, BulkStatus
from domain.orders.specs import Spec
from infrastructure.db.order_specs import compile_spec
from infrastructure.db.tables import bulk_operation_orders as items
from infrastructure.db.tables import bulk_operations as ops
from infrastructure.db.tables import orders

_COLUMNS = [
    ops.c.id,
    ops.c.kind,
    ops.c.filter,
    ops.c.force,
    ops.c.status,
    ops.c.total,
    ops.c.done,
    ops.c.failed,
    ops.c.position,
    ops.c.failures,
    ops.c.actor,
    ops.c.created_at,
    ops.c.finished_at,
]


def _view(row: Any) -> BulkOperationView:
    return BulkOperationView(
        id=row.id,
        kind=BulkKind(row.kind),
        filter=row.filter,
        force=row.force,
        status=BulkStatus(row.status),
        total=row.total,
        done=row.done,
        failed=row.failed,
        position=row.position,
        failures=[BulkFailure(UUID(f["order"]), f["message"]) for f in row.failures or []],
        actor=row.actor,
        created_at=row.created_at,
        finished_at=row.finished_at,
    )


def _progress(op: BulkOperationView) -> dict[str, Any]:
    return {
        "status": op.status.value,
        "total": op.total,
        "done": op.done,
        "failed": op.failed,
        "position": op.position,
        "failures": [{"order": str(f.order_id), "message": f.message} for f in op.failures],
        "finished_at": op.finished_at,
    }


class SqlBulkOperations:
    """Implements `app.bulk.ports.BulkOperations` on a unit of work's connection."""

    def __init__(self, conn: AsyncConnection) -> None:
        self._conn = conn

    async def add(self, operation: BulkOperationView, spec: Spec | None) -> int:
        conn = self._conn
        await conn.execute(
            insert(ops).values(
                id=operation.id,
                kind=operation.kind.value,
                filter=operation.filter,
                force=operation.force,
                actor=operation.actor,
                created_at=operation.created_at,
                updated_at=operation.created_at,
                **_progress(operation),
            )
        )
        # The matching orders, oldest first, numbered from 0: one statement whatever their
        # number (no ids travel to Python and back).
        position = func.row_number().over(order_by=(orders.c.created_at, orders.c.id)) - 1
        matching = select(literal(operation.id), position, orders.c.id)
        if spec is not None:
            matching = matching.where(compile_spec(spec))
        copied = await conn.execute(
            insert(items).from_select(["operation_id", "position", "order_uuid"], matching)
        )
        total = int(copied.rowcount)
        await conn.execute(update(ops).where(ops.c.id == operation.id).values(total=total))
        return total

    async def get(self, id: UUID, *, lock: bool = False) -> BulkOperationView | None:
        query = select(*_COLUMNS).where(ops.c.id == id)
        if lock:
            query = query.with_for_update()  # SQLite: the unit's write lock already holds it
        row = (await self._conn.execute(query)).first()
        return _view(row) if row is not None else None

    async def orders(self, id: UUID, position: int, count: int) -> list[UUID]:
        query = (
            select(items.c.order_uuid)
            .where(items.c.operation_id == id, items.c.position >= position)
            .order_by(items.c.position)
            .limit(count)
        )
        return list((await self._conn.execute(query)).scalars())

    async def save(self, operation: BulkOperationView, at: datetime) -> None:
        await self._conn.execute(
            update(ops)
            .where(ops.c.id == operation.id)
            .values(updated_at=at, **_progress(operation))
        )


class SqlBulkReads:
    """Implements `app.bulk.ports.BulkReads`."""

    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    async def by_id(self, id: UUID) -> BulkOperationView | None:
        async with self._engine.connect() as conn:
            row = (await conn.execute(select(*_COLUMNS).where(ops.c.id == id))).first()
        return _view(row) if row is not None else None

    async def page(
        self, first: int, after: tuple[datetime, UUID] | None
    ) -> list[BulkOperationView]:
        query = select(*_COLUMNS).order_by(ops.c.created_at.desc(), ops.c.id.desc()).limit(first)
        if after is not None:
            query = query.where(tuple_(ops.c.created_at, ops.c.id) < tuple_(*after))
        async with self._engine.connect() as conn:
            rows = (await conn.execute(query)).all()
        return [_view(r) for r in rows]
