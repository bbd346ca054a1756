"""The unit of work's commit on both dialects: every new row of an intake (order, archived body,
event, job, log line) in one INSERT on PostgreSQL, one per table on SQLite; all or nothing."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import event, select

from app.logs.ports import LogLevel
from app.main.bootstrap import Container, bootstrap
from app.main.settings import Settings
from app.orders.commands import CreateOrder, OrderAccepted
from infrastructure.db import batch_insert
from infrastructure.db.batch_insert import insert_all
from infrastructure.db.tables import events, logs, orders, outbox, webhook_payloads
from infrastructure.db.uow import SqlUnitOfWork
from tests.pipeline import body


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
    combined = "WITH" if c.engine.dialect.name == "postgresql" else "INSERT"
    async with c.engine.connect() as conn:
        with statements(c) as sent:
            await insert_all(conn, [(logs, large), (outbox, job_rows(1))])
            await insert_all(conn, [(logs, uneven[:1]), (outbox, job_rows(1))])
            await insert_all(conn, [(outbox, []), (logs, log_rows(1))])
        await conn.commit()
    pairs = ["WITH"] if combined == "WITH" else ["INSERT", "INSERT"]
    assert [s for s in sent if s != "BEGIN"] == ["INSERT", "INSERT", *pairs, "INSERT"]
    assert batch_insert._shape([(logs, uneven), (outbox, job_rows(1))]) is None
    assert (await count(c, logs), await count(c, outbox)) == (batch_insert.MAX_ROWS + 3, 2)
