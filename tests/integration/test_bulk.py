"""Bulk batches on both dialects, driven by hand (no worker): the orders are copied at the
start in one statement, a batch is one transaction with one UPDATE for markOrdersProcessed,
its job chains the next batch through the outbox, and a repeated, stale or canceled batch job
does nothing."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from sqlalchemy import event, func, select

from app.bulk.commands import CancelBulkOperation, RunBulkBatch, StartBulkOperation
from app.orders.commands import CreateOrder
from app.privacy.queries import orders_of, person_of
from domain.orders.bulk import BulkKind, BulkStatus
from domain.orders.specs import Compare
from infrastructure.db.tables import orders, outbox, webhook_payloads
from infrastructure.queue.broker import create_broker
from tests.live import order_body
from visapi.bootstrap import Container, bootstrap
from visapi.settings import Settings


@pytest.fixture
async def container(settings: Settings) -> AsyncIterator[Container]:
    c = bootstrap(settings, broker=create_broker(settings))
    yield c
    await c.aclose()


@contextmanager
def statements(c: Container) -> Iterator[list[str]]:
    seen: list[str] = []

    def record(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        seen.append(statement.split()[0].upper() + " " + statement)

    event.listen(c.engine.sync_engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(c.engine.sync_engine, "before_cursor_execute", record)


async def test_batches_chain_exactly_and_repeat_nothing(container: Container) -> None:
    c = container
    for _ in range(120):
        await c.bus.handle(CreateOrder(payload=order_body("bulk@example.com")))
    await c.bus.handle(CreateOrder(payload=order_body("other@example.com")))
    spec = Compare("client_email", "eq", "bulk@example.com")
    with statements(c) as seen:
        op = await c.bus.handle(StartBulkOperation(BulkKind.MARK_PROCESSED, spec, {}))
    copies = [s for s in seen if "bulk_operation_orders" in s and s.startswith("INSERT")]
    assert len(copies) == 1  # the 120 orders copied by one INSERT ... SELECT
    assert op.total == 120
    first = await c.bus.handle(RunBulkBatch(op.id, 0))
    assert (first.position, first.done, first.status) == (50, 50, BulkStatus.RUNNING)
    again = await c.bus.handle(RunBulkBatch(op.id, 0))  # redelivered: nothing more
    assert (again.position, again.done) == (50, 50)
    with statements(c) as seen:
        second = await c.bus.handle(RunBulkBatch(op.id, 50))
    updates = [s for s in seen if s.startswith("UPDATE") and " orders " in s + " "]
    assert len([s for s in updates if "processed_at" in s]) == 1  # one UPDATE for 50 orders
    last = await c.bus.handle(RunBulkBatch(op.id, 100))
    assert (second.position, last.position, last.done) == (100, 120, 120)
    assert last.status is BulkStatus.FINISHED
    await c.relay.flush()
    async with c.engine.connect() as conn:
        left = await conn.scalar(
            select(func.count()).select_from(orders).where(orders.c.processed_at.is_(None))
        )
        jobs = (
            (
                await conn.execute(
                    select(outbox.c.arguments).where(outbox.c.actor == "run_bulk_batch")
                )
            )
            .scalars()
            .all()
        )
    assert left == 1  # the other customer's
    assert sorted(j["position"] for j in jobs) == [0, 50, 100]  # each batch's job, once


async def test_a_canceled_operation_runs_no_further_batch(container: Container) -> None:
    c = container
    for _ in range(60):
        await c.bus.handle(CreateOrder(payload=order_body("cancel@example.com")))
    spec = Compare("client_email", "eq", "cancel@example.com")
    op = await c.bus.handle(StartBulkOperation(BulkKind.MARK_PROCESSED, spec, {}))
    await c.bus.handle(RunBulkBatch(op.id, 0))
    canceled = await c.bus.handle(CancelBulkOperation(op.id))
    after = await c.bus.handle(RunBulkBatch(op.id, 50))
    assert canceled.status is BulkStatus.CANCELED
    assert (after.position, after.done, after.status) == (50, 50, BulkStatus.CANCELED)


async def test_a_customer_is_exported_then_erased(container: Container) -> None:
    c = container
    for email in ("erase-me@example.com", "erase-me@example.com", "keep-me@example.com"):
        await c.bus.handle(CreateOrder(payload=order_body(email)))
    me = person_of("Erase-Me@example.com", None)  # as typed: matched in lower case too
    exported = await c.services.privacy.export(me)
    assert len(exported["orders"]) == 2
    assert len(exported["archivedBodies"]) == 2
    op = await c.bus.handle(StartBulkOperation(BulkKind.ERASE_CUSTOMER, orders_of(me), {}))
    done = await c.bus.handle(RunBulkBatch(op.id, 0))
    assert (done.status, done.done) == (BulkStatus.FINISHED, 2)
    async with c.engine.connect() as conn:
        names = (await conn.execute(select(orders.c.client_name))).scalars().all()
        bodies = (await conn.execute(select(webhook_payloads.c.body))).scalars().all()
    assert sorted(names) == ["Avi Cohen", "[erased]", "[erased]"]
    assert sum(1 for b in bodies if b == {"erased": True}) == 2
    assert (await c.services.privacy.export(me))["orders"] == []
    assert (
        len((await c.services.privacy.export(person_of("keep-me@example.com", None)))["orders"])
        == 1
    )
