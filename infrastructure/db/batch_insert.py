"""A unit of work's new rows, all tables at once: one statement on PostgreSQL.

An order's intake inserts into five tables (the order, its archived body, its event, its job,
its log line). One INSERT each is five round trips, five times SQLAlchemy's execute path, and
on this stack that path is the larger part of an intake's CPU. PostgreSQL runs data-modifying
CTEs as one statement: `WITH w0 AS (INSERT ...), w1 AS (INSERT ...) INSERT ...`, atomic like
the rest of the transaction, foreign keys checked at its end. The statement for one shape
(which tables, which columns, how many rows each) is built once, with named bind parameters
typed by their columns, and kept: SQLAlchemy memoises its cache key on the object, so a repeat
costs no statement construction and no compilation (hence one single-row INSERT per row:
SQLAlchemy does not cache multi-row VALUES).

SQLite has no DML in CTEs: one executemany per table, as before. So does a unit of a rare or
large shape (past MAX_ROWS rows or MAX_PARAMS parameters): its statement would not be reused.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from functools import lru_cache
from typing import Any

from sqlalchemy import Insert, Table, bindparam, insert
from sqlalchemy.ext.asyncio import AsyncConnection

MAX_ROWS = 8  # rows of one table in a combined statement
MAX_PARAMS = 2000  # asyncpg takes 32767; large units gain nothing from one statement
SHAPES = 64  # combined statements kept (least recently used dropped)

Part = tuple[Table, Sequence[Mapping[str, Any]]]
_Shape = tuple[tuple[str, tuple[str, ...], int], ...]


def _shape(parts: Sequence[Part]) -> _Shape | None:
    shape = []
    params = 0
    for table, rows in parts:
        columns = tuple(rows[0])
        if len(rows) > MAX_ROWS or any(tuple(r) != columns for r in rows[1:]):
            return None
        params += len(columns) * len(rows)
        shape.append((table.name, columns, len(rows)))
    return tuple(shape) if params <= MAX_PARAMS else None


def _name(part: int, row: int, column: str) -> str:
    return f"p{part}_{row}_{column}"


@lru_cache(maxsize=SHAPES)
def _statement(tables: tuple[Table, ...], shape: _Shape) -> Insert:
    # One single-row INSERT per row: SQLAlchemy does not cache multi-row VALUES statements.
    inserts = [
        insert(table).values({c: bindparam(_name(i, r, c), type_=table.c[c].type) for c in columns})
        for i, (table, (_, columns, count)) in enumerate(zip(tables, shape, strict=True))
        for r in range(count)
    ]
    *ctes, last = inserts
    return last.add_cte(*(stmt.cte(f"w{i}") for i, stmt in enumerate(ctes)))


async def insert_all(conn: AsyncConnection, parts: Sequence[Part], *, alone: bool = False) -> None:
    """Insert every part's rows (parents before children) in the connection's transaction.

    `alone`: nothing else ran in this transaction (PostgreSQL, no BEGIN sent yet). When the rows
    then go in one statement, that statement runs in autocommit: atomic by itself, without the
    BEGIN and COMMIT round trips. The pool restores the isolation level when the connection
    goes back.
    """
    parts = [(table, rows) for table, rows in parts if rows]
    if not parts:
        return
    postgres = conn.dialect.name == "postgresql"
    single_row = len(parts) == 1 and len(parts[0][1]) == 1
    shape = _shape(parts) if postgres and not single_row else None
    if alone and postgres and (shape is not None or single_row):
        await conn.execution_options(isolation_level="AUTOCOMMIT")
    if shape is None:
        for table, rows in parts:
            await conn.execute(insert(table), list(rows))
        return
    params = {
        _name(i, r, column): value
        for i, (_, rows) in enumerate(parts)
        for r, row in enumerate(rows)
        for column, value in row.items()
    }
    await conn.execute(_statement(tuple(t for t, _ in parts), shape), params)
