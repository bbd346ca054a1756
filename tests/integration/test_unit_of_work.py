"""The unit of work's commit on both dialects: every new row of an intake (order, archived body,
event, job, log line) in one INSERT on PostgreSQL, one per table on SQLite; all or nothing."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import event, select

from app.logs.ports import LogLevel
from app.orders.commands import CreateOrder, OrderAccepted
from infrastructure.db import batch_insert
from infrastructure.db.batch_insert import insert_all
from infrastructure.db.tables import events, logs, orders, outbox, webhook_payloads
from infrastructure.db.uow import SqlUnitOfWork
from tests.pipeline import body
from visapi.bootstrap import Container, bootstrap
from visapi.settings import Settings


@pytest.fixture
async def c(settings: Settings) -> AsyncIterator[Container]:
    container = bootstrap(settings)
    yield container
    await container.aclose()


@contextmanager
def statements(c: Container) -> Iterator[list[str]]:
    sent: list[str] = []

    def record(*args: Any) -> None:
        sent.append(args[2].split(None, 1)[0].upper())  # the statement's first word

    event.listen(c.engine.sync_engine, "before_cursor_execute", record)
    try:
        yield sent
    finally:
        event.remove(c.engine.sync_engine, "before_cursor_execute", record)


@contextmanager
def transaction_control(c: Container) -> Iterator[list[str]]:
    """PostgreSQL: BEGIN/COMMIT/ROLLBACK as asyncpg sends them (its query logger), the pool's
    pre-ping ("BEGIN;" ... "ROLLBACK;") left out."""
    sent: list[str] = []
    sync = c.engine.sync_engine

    def logger(record: Any) -> None:
        if record.query not in ("BEGIN;", "ROLLBACK;"):
            sent.append(record.query.split(None, 1)[0].upper().rstrip(";"))

    def on_connect(dbapi_conn: Any, _record: Any) -> None:
        sync.dialect.get_driver_connection(dbapi_conn).add_query_logger(logger)

    event.listen(sync, "connect", on_connect)
    try:
        yield sent
    finally:
        event.remove(sync, "connect", on_connect)


async def count(c: Container, table: Any) -> int:
    async with c.engine.connect() as conn:
        return len((await conn.execute(select(table.c.id))).all())


async def test_an_intake_writes_its_five_tables_in_one_statement_on_postgresql(
    c: Container,
) -> None:
    with statements(c) as sent:
        outcome = await c.bus.handle(CreateOrder(payload=body(), correlation_id="corr-1"))
    assert isinstance(outcome, OrderAccepted)
    assert outcome.created
    inserts = [s for s in sent if s in ("INSERT", "WITH")]
    assert inserts == (["WITH"] if c.engine.dialect.name == "postgresql" else ["INSERT"] * 5)
    for table in (orders, webhook_payloads, events, outbox, logs):
        assert await count(c, table) == 1, table.name
    async with c.engine.connect() as conn:
        line = (await conn.execute(select(logs))).one()
        stored = (await conn.execute(select(orders.c.amount, orders.c.flags))).one()
    assert line.message == "order IL251101GB07 received"
    assert (line.level, line.correlation_id) == ("info", "corr-1")
    assert line.metadata["order_uuid"] == str(outcome.order.id)
    # Values keep their column types through the combined statement's bind parameters.
    assert stored.amount == outcome.order.amount
    assert stored.flags == [{"field": f.field, "issue": f.issue} for f in outcome.order.flags]


async def test_on_postgresql_a_unit_that_only_inserts_sends_no_begin_or_commit(
    c: Container,
) -> None:
    if c.engine.dialect.name != "postgresql":
        pytest.skip("SQLite keeps BEGIN IMMEDIATE: its write lock is taken up front")
    await c.engine.dispose()  # new connections, each with the query logger

    def unit() -> SqlUnitOfWork:
        return SqlUnitOfWork(c.engine, jobs_for=lambda e: [], registry={})

    with transaction_control(c) as sent:
        async with unit() as only_inserts:
            only_inserts.logs.add(LogLevel.INFO, "one")
            only_inserts.logs.add(LogLevel.INFO, "two")
            await only_inserts.commit()  # one statement in autocommit
        # asyncpg hands each record to its loggers with loop.call_soon before the query returns:
        # one turn of the loop runs them all (a yield, not a wait for time to pass).
        await asyncio.sleep(0)
        assert sent == []
        async with unit() as reads_first:
            await reads_first.orders.get_by_order_id("IL1")
            reads_first.logs.add(LogLevel.INFO, "three")
            await reads_first.commit()
        async with unit() as abandoned:
            abandoned.logs.add(LogLevel.INFO, "never stored")
        await asyncio.sleep(0)  # as above
    assert sent == ["BEGIN", "COMMIT"]  # a unit that reads before writing keeps its transaction
    async with c.engine.connect() as conn:
        stored = (await conn.execute(select(logs.c.message))).scalars().all()
    assert sorted(stored) == ["one", "three", "two"]


async def test_a_repeat_fails_whole_and_is_answered_as_the_duplicate(c: Container) -> None:
    first = await c.bus.handle(CreateOrder(payload=body()))
    again = await c.bus.handle(CreateOrder(payload=body()))
    assert isinstance(first, OrderAccepted)
    assert isinstance(again, OrderAccepted)
    assert (again.created, again.order.id) == (False, first.order.id)
    # The refused attempt left nothing: one order, its one event and job; two archived bodies.
    assert (await count(c, orders), await count(c, events), await count(c, outbox)) == (1, 1, 1)
    async with c.engine.connect() as conn:
        bodies = (await conn.execute(select(webhook_payloads.c.status))).scalars().all()
        lines = (await conn.execute(select(logs.c.message).order_by(logs.c.created_at))).all()
    assert sorted(bodies) == ["accepted", "duplicate"]
    assert [m for (m,) in lines] == [
        "order IL251101GB07 received",
        "order IL251101GB07 received again (duplicate)",
    ]


async def test_log_lines_are_redacted_and_roll_back_with_their_unit(c: Container) -> None:
    async with SqlUnitOfWork(c.engine, jobs_for=lambda e: [], registry={}) as unit:
        unit.logs.add(LogLevel.INFO, "called +972-54-111-2233", metadata={"token": "s3cret"})
        await unit.rollback()
    assert await count(c, logs) == 0
    async with SqlUnitOfWork(c.engine, jobs_for=lambda e: [], registry={}) as unit:
        unit.logs.add(LogLevel.INFO, "called +972-54-111-2233", metadata={"token": "s3cret"})
        await unit.commit()
    async with c.engine.connect() as conn:
        line = (await conn.execute(select(logs))).one()
    assert "2233" not in line.message
    assert "s3cret" not in str(line.metadata)
    assert line.pii_redacted is True


def log_rows(n: int) -> list[dict[str, Any]]:
    now = datetime.now(UTC)
    return [
        {"id": uuid.uuid4(), "level": "info", "message": f"m{i}", "metadata": {},
         "pii_redacted": False, "created_at": now}
        for i in range(n)
    ]  # fmt: skip


def job_rows(n: int) -> list[dict[str, Any]]:
    now = datetime.now(UTC)
    return [
        {"id": uuid.uuid4(), "actor": "sync_contact", "arguments": {}, "queue": "default",
         "created_at": now}
        for _ in range(n)
    ]  # fmt: skip


async def test_large_or_uneven_batches_fall_back_to_one_insert_per_table(c: Container) -> None:
    large = log_rows(batch_insert.MAX_ROWS + 1)
    uneven = log_rows(2)
    del uneven[1]["metadata"]
    async with c.engine.connect() as conn:
        with statements(c) as sent:
            await insert_all(conn, [(logs, large), (outbox, job_rows(1))])
            await insert_all(conn, [(logs, uneven[:1]), (outbox, job_rows(1))])
            await insert_all(conn, [(outbox, []), (logs, log_rows(1))])
            await insert_all(conn, [(logs, log_rows(2))])
        await conn.commit()
    expected = {
        # too large: one per table; combined; one row alone; two rows of one table combined
        "postgresql": ["INSERT", "INSERT", "WITH", "INSERT", "WITH"],
        "sqlite": ["INSERT"] * 6,  # one executemany per table, always
    }
    assert [s for s in sent if s != "BEGIN"] == expected[c.engine.dialect.name]
    assert batch_insert._shape([(logs, uneven), (outbox, job_rows(1))]) is None
    assert (await count(c, logs), await count(c, outbox)) == (batch_insert.MAX_ROWS + 5, 2)
