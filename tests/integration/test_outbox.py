"""Outbox on both dialects: rows written with the change, fast path, sweeper, SKIP LOCKED."""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import dramatiq
import pytest
from sqlalchemy import func, insert, select

from app.orders.commands import CreateOrder, OrderAccepted
from infrastructure.db.engine import create_engine
from infrastructure.db.tables import events, outbox
from infrastructure.queue.broker import create_broker
from infrastructure.queue.relay import OutboxRelay
from visapi.bootstrap import Container, bootstrap
from visapi.settings import Settings

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "vizi-orders"


def body(name: str) -> Any:
    return json.loads((FIXTURES / name).read_text())


def queued(broker: dramatiq.Broker, queue: str = "default") -> list[dramatiq.Message[Any]]:
    """Messages waiting on a StubBroker queue, without consuming them."""
    return [dramatiq.Message.decode(data) for data in list(broker.queues[queue].queue)]


@pytest.fixture
async def container(settings: Settings) -> AsyncIterator[Container]:
    c = bootstrap(settings, broker=create_broker(settings))
    yield c
    await c.aclose()


async def outbox_rows(c: Container) -> list[Any]:
    await c.relay.flush()  # the fast path publishes in the background: wait for it
    async with c.engine.connect() as conn:
        return list((await conn.execute(select(outbox).order_by(outbox.c.created_at))).all())


async def test_il_order_writes_event_and_outbox_row_and_publishes_it(container: Container) -> None:
    result = await container.bus.handle(CreateOrder(payload=body("il-uk-eta.json")))
    assert isinstance(result, OrderAccepted)
    order_uuid = result.order.id

    async with container.engine.connect() as conn:
        stored = (await conn.execute(select(events.c.type, events.c.aggregate_id))).all()
    assert [(e.type, e.aggregate_id) for e in stored] == [("order.created", order_uuid)]
    [row] = await outbox_rows(container)
    assert (row.actor, row.queue, row.arguments) == (
        "sync_contact",
        "default",
        {"order_id": str(order_uuid)},
    )
    assert row.published_at is not None  # the fast path ran after commit

    [message] = queued(container.broker)
    assert message.message_id == str(row.id)
    assert (message.actor_name, message.kwargs) == ("sync_contact", {"order_id": str(order_uuid)})


async def test_se_order_writes_no_outbox_row(container: Container) -> None:
    result = await container.bus.handle(
        CreateOrder(payload=body("se-india-uppercase-branch-extra-keys.json"))
    )
    assert isinstance(result, OrderAccepted)
    assert result.order.branch == "se"
    assert await outbox_rows(container) == []
    assert queued(container.broker) == []


async def test_crash_between_commit_and_publish_is_swept(
    container: Container, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broker_down(message: Any, *, delay: int | None = None) -> Any:
        raise ConnectionError("broker down")

    monkeypatch.setattr(container.broker, "enqueue", broker_down)
    result = await container.bus.handle(CreateOrder(payload=body("il-uk-eta.json")))
    assert isinstance(result, OrderAccepted)  # the order is committed regardless
    [row] = await outbox_rows(container)
    assert row.published_at is None
    monkeypatch.undo()

    # Fresh rows are left to the fast path; only rows older than the age are swept.
    assert await container.relay.sweep(older_than_s=60) == 0
    assert await container.relay.sweep(older_than_s=0) == 1
    [row] = await outbox_rows(container)
    assert row.published_at is not None
    assert [m.message_id for m in queued(container.broker)] == [str(row.id)]
    assert await container.relay.sweep(older_than_s=0) == 0


async def test_sweep_stops_at_broker_error_and_keeps_order(
    container: Container, monkeypatch: pytest.MonkeyPatch
) -> None:
    ids = await _stale_rows(container, 3)
    real = container.broker.enqueue
    calls = 0

    def flaky(message: Any, *, delay: int | None = None) -> Any:
        nonlocal calls
        calls += 1
        if calls == 2:
            raise ConnectionError("broker down")
        return real(message, delay=delay)

    monkeypatch.setattr(container.broker, "enqueue", flaky)
    assert await container.relay.sweep(older_than_s=0) == 1
    monkeypatch.undo()
    assert await container.relay.sweep(older_than_s=0) == 2
    assert [m.message_id for m in queued(container.broker)] == [str(i) for i in ids]


async def _stale_rows(c: Container, n: int) -> list[uuid.UUID]:
    base = datetime.now(UTC) - timedelta(minutes=5)
    rows: list[dict[str, Any]] = [
        {
            "id": uuid.uuid4(),
            "actor": "sync_contact",
            "arguments": {"order_id": str(uuid.uuid4())},
            "queue": "default",
            "created_at": base + timedelta(seconds=i),
        }
        for i in range(n)
    ]
    async with c.engine.begin() as conn:
        await conn.execute(insert(outbox), rows)
    return [r["id"] for r in rows]


async def test_concurrent_sweeps_publish_each_row_once(postgres_url: str) -> None:
    settings = Settings(database_url=postgres_url, db_pool_size=5)
    broker = create_broker(settings)
    real = broker.enqueue

    def slow(message: Any, *, delay: int | None = None) -> Any:
        time.sleep(0.01)  # keeps both sweepers' transactions open at the same time
        return real(message, delay=delay)

    broker.enqueue = slow  # type: ignore[method-assign]
    c = bootstrap(settings, broker=broker)
    engine = create_engine(postgres_url, pool_size=2)
    try:
        ids = await _stale_rows(c, 24)
        relays = [c.relay, OutboxRelay(engine, broker, c.registry)]

        async def drain(relay: OutboxRelay) -> int:
            total = 0
            while n := await relay.sweep(limit=4, older_than_s=0):
                total += n
            return total

        counts = await asyncio.gather(*(drain(r) for r in relays))
        published = [m.message_id for m in queued(broker)]
        assert sorted(published) == sorted(str(i) for i in ids)  # each row exactly once
        assert sum(counts) == 24
        assert all(n > 0 for n in counts)  # both sweepers really took part
        async with c.engine.connect() as conn:
            left = await conn.scalar(
                select(func.count()).select_from(outbox).where(outbox.c.published_at.is_(None))
            )
        assert left == 0
    finally:
        await engine.dispose()
        await c.aclose()


async def test_concurrent_orders_do_not_starve_the_pool_in_the_fast_path(db_url: str) -> None:
    """More concurrent il orders than pooled connections: each unit of work gives its
    connection back before the relay marks its rows published (which needs one too)."""
    settings = Settings(database_url=db_url, db_pool_size=2)
    c = bootstrap(settings, broker=create_broker(settings))
    try:
        bodies = []
        for n in range(8):
            b = body("il-uk-eta.json")
            b["order"]["id"] = f"IL2511POOL{n:02d}"
            bodies.append(b)
        outcomes = await asyncio.wait_for(
            asyncio.gather(*(c.bus.handle(CreateOrder(payload=b)) for b in bodies)), timeout=20
        )
        assert all(isinstance(o, OrderAccepted) and o.created for o in outcomes)
        rows = await outbox_rows(c)
        assert len(rows) == 8
        assert all(r.published_at is not None for r in rows)
    finally:
        await c.aclose()
