"""The order query side in SQLAlchemy Core: read models straight from rows, one query per call."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import fields
from functools import lru_cache
from typing import Any
from uuid import UUID

from sqlalchemy import (
    ColumnElement,
    Executable,
    Row,
    Select,
    String,
    and_,
    bindparam,
    func,
    literal_column,
    or_,
    select,
    tuple_,
    type_coerce,
)
from sqlalchemy.ext.asyncio import AsyncEngine

from app.orders.side_views import ContactSyncView, NotificationView
from app.orders.views import (
    DEFAULT_SORT,
    EventView,
    FlagView,
    Keyset,
    OrderPage,
    OrderView,
    Sort,
    SortField,
    StatsBucket,
    StatsGroup,
)
from domain.orders.specs import Spec
from infrastructure.db.order_specs import compile_spec
from infrastructure.db.tables import contact_syncs, events, notifications, orders
from infrastructure.db.types import Money

# Only the columns the read model shows; the JSON buckets of the form stay in the database.
_ORDER = select(*(orders.c[f.name] for f in fields(OrderView)))
# Hot paths are module-level statements so SQLAlchemy's compiled cache always hits.
_BY_IDS = _ORDER.where(orders.c.id.in_(bindparam("ids", expanding=True)))
_BY_ORDER_ID = _ORDER.where(orders.c.order_id == bindparam("order_id"))
_COUNT = select(func.count()).select_from(orders)
PAGE_STATEMENTS = 256  # distinct (filter, sort, size) page statements kept per process

_EVENTS = (
    select(*(events.c[f.name] for f in fields(EventView)))
    .where(
        events.c.aggregate_type == literal_column("'order'"),
        events.c.aggregate_id.in_(bindparam("ids", expanding=True)),
    )
    .order_by(events.c.aggregate_id, events.c.occurred_at, events.c.id)
)
_CONTACT_SYNCS = select(
    contact_syncs.c.order_uuid.label("order_id"),
    *(contact_syncs.c[f.name] for f in fields(ContactSyncView) if f.name != "order_id"),
).where(contact_syncs.c.order_uuid.in_(bindparam("ids", expanding=True)))
_NOTIFICATIONS = (
    select(
        notifications.c.order_uuid.label("order_id"),
        *(notifications.c[f.name] for f in fields(NotificationView) if f.name != "order_id"),
    )
    .where(notifications.c.order_uuid.in_(bindparam("ids", expanding=True)))
    .order_by(notifications.c.order_uuid, notifications.c.created_at, notifications.c.id)
)

_SORT_COLUMNS: dict[SortField, Any] = {
    SortField.CREATED_AT: orders.c.created_at,
    SortField.AMOUNT: orders.c.amount,
    SortField.ORDER_ID: orders.c.order_id,
}
# Constants are literal SQL, not bound parameters, so that PostgreSQL sees the very same
# expression in SELECT, GROUP BY and ORDER BY.
_DAY_SQLITE = func.date(orders.c.created_at, type_=String)  # stored as naive UTC text
_DAY_POSTGRES = func.to_char(
    func.timezone(literal_column("'UTC'"), orders.c.created_at),
    literal_column("'YYYY-MM-DD'"),
    type_=String,
)
_GROUP_COLUMNS: dict[StatsGroup, Any] = {
    StatsGroup.BRANCH: orders.c.branch,
    StatsGroup.STATUS: orders.c.order_status,
    StatsGroup.COUNTRY: orders.c.product_country,
    StatsGroup.CURRENCY: orders.c.currency,
}


_FLAGS = [f.name for f in fields(OrderView)].index("flags")


def _view(row: Row[Any]) -> OrderView:
    # Positional: _ORDER selects the columns in OrderView's field order (no dict per row).
    values = list(row)
    values[_FLAGS] = [FlagView(f["field"], f["issue"]) for f in values[_FLAGS] or ()]
    return OrderView(*values)


def _after(keys: list[tuple[Any, bool]]) -> ColumnElement[bool]:
    """Rows strictly after the keyset bound as `after_0`, `after_1`, ... in the order of `keys`
    (column, descending); the values come with each execution."""
    vals = [bindparam(f"after_{i}", type_=c.type) for i, (c, _) in enumerate(keys)]
    if len({desc for _, desc in keys}) == 1:
        # One direction: a row-value comparison, which (created_at, id) indexes serve directly.
        cols = tuple_(*(c for c, _ in keys))
        return cols < tuple_(*vals) if keys[0][1] else cols > tuple_(*vals)
    # Mixed directions: (a after x) or (a = x and b after y) or ...
    clauses = []
    for i, (col, desc) in enumerate(keys):
        ties = [keys[j][0] == vals[j] for j in range(i)]
        clauses.append(and_(*ties, col < vals[i] if desc else col > vals[i]))
    return or_(*clauses)


@lru_cache(maxsize=PAGE_STATEMENTS)
def _page_statement(
    spec: Spec | None, sort: tuple[Sort, ...], first: int, after: bool
) -> Select[Any]:
    """One statement per (filter, sort, size, first page or not), built once: SQLAlchemy keeps
    its cache key on the object, so a repeated page costs neither construction nor compiling."""
    # The id breaks ties, in the direction of the last sort key, so every row has one place.
    keys = [(_SORT_COLUMNS[s.field], s.descending) for s in sort]
    keys.append((orders.c.id, sort[-1].descending))
    stmt = _ORDER
    if spec is not None:
        stmt = stmt.where(compile_spec(spec))
    if after:
        stmt = stmt.where(_after(keys))
    # One row more than asked tells whether there is a next page, without a count.
    return stmt.order_by(*(c.desc() if d else c.asc() for c, d in keys)).limit(first + 1)


class SqlOrderReads:
    """Implements OrderReads over an engine (a read replica when configured)."""

    def __init__(self, engine: AsyncEngine) -> None:
        # Each read is one statement: on PostgreSQL no BEGIN/ROLLBACK around it, two round
        # trips fewer per read (the pool and the write side keep their transactions).
        if engine.dialect.name == "postgresql":
            engine = engine.execution_options(isolation_level="AUTOCOMMIT")
        self._engine = engine
        self._day = _DAY_SQLITE if engine.dialect.name == "sqlite" else _DAY_POSTGRES

    async def _rows(self, stmt: Executable, params: dict[str, Any] | None = None) -> list[Any]:
        async with self._engine.connect() as conn:
            result = await conn.execute(stmt, params)
            return list(result.all())

    async def by_ids(self, ids: Sequence[UUID]) -> list[OrderView]:
        if not ids:
            return []
        return [_view(r) for r in await self._rows(_BY_IDS, {"ids": list(ids)})]

    async def by_order_id(self, order_id: str) -> OrderView | None:
        rows = await self._rows(_BY_ORDER_ID, {"order_id": order_id})
        return _view(rows[0]) if rows else None

    async def page(
        self, spec: Spec | None, sort: Sequence[Sort], first: int, after: Keyset | None
    ) -> OrderPage:
        sort = tuple(sort) or DEFAULT_SORT
        params: dict[str, Any] = {}
        if after is not None:
            if len(after.values) != len(sort):
                raise ValueError("keyset does not match the sort")
            params = {f"after_{i}": v for i, v in enumerate((*after.values, after.id))}
        try:
            stmt = _page_statement(spec, sort, first, after is not None)
        except TypeError:  # a spec holding an unhashable value: built for this call only
            stmt = _page_statement.__wrapped__(spec, sort, first, after is not None)
        rows = await self._rows(stmt, params)
        items = [_view(r) for r in rows[:first]]
        keysets = [Keyset(tuple(getattr(v, s.field.value) for s in sort), v.id) for v in items]
        return OrderPage(items=items, keysets=keysets, has_next=len(rows) > first)

    async def count(self, spec: Spec | None) -> int:
        stmt = _COUNT if spec is None else _COUNT.where(compile_spec(spec))
        rows = await self._rows(stmt)
        return int(rows[0][0])

    async def stats(self, spec: Spec | None, group: StatsGroup) -> list[StatsBucket]:
        key = self._day if group is StatsGroup.DAY else _GROUP_COLUMNS[group]
        # SUM keeps the Money type: integer cents on SQLite come back as exact Decimals.
        total = type_coerce(func.sum(orders.c.amount), Money())
        stmt = select(key, func.count(), total).group_by(key).order_by(key)
        if spec is not None:
            stmt = stmt.where(compile_spec(spec))
        return [
            StatsBucket(key=str(k), count=int(n), total_amount=t)
            for k, n, t in await self._rows(stmt)
        ]

    async def events_for(self, aggregate_ids: Sequence[UUID]) -> dict[UUID, list[EventView]]:
        grouped: dict[UUID, list[EventView]] = {}
        if aggregate_ids:
            for row in await self._rows(_EVENTS, {"ids": list(aggregate_ids)}):
                grouped.setdefault(row.aggregate_id, []).append(EventView(**row._asdict()))
        return grouped

    async def contact_syncs_for(self, order_ids: Sequence[UUID]) -> dict[UUID, ContactSyncView]:
        if not order_ids:
            return {}
        rows = await self._rows(_CONTACT_SYNCS, {"ids": list(order_ids)})
        return {r.order_id: ContactSyncView(**r._asdict()) for r in rows}

    async def notifications_for(
        self, order_ids: Sequence[UUID]
    ) -> dict[UUID, list[NotificationView]]:
        grouped: dict[UUID, list[NotificationView]] = {}
        if order_ids:
            for row in await self._rows(_NOTIFICATIONS, {"ids": list(order_ids)}):
                grouped.setdefault(row.order_id, []).append(NotificationView(**row._asdict()))
        return grouped
