"""Replay over every job-causing event, on both dialects: a replayed OrderCreated runs the
workflow runs the order started again (they are not its policy's jobs), and the other event
types replay the jobs they caused."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from app.orders.commands import CreateOrder, OrderAccepted
from app.replay import REPLAYABLE, ReplayEvents
from app.workflows.commands import CreateWorkflow
from infrastructure.db.event_log import SqlEventLog
from infrastructure.db.tables import outbox
from infrastructure.queue.broker import create_broker
from tests.live import order_body
from visapi.bootstrap import Container, bootstrap
from visapi.settings import Settings

WORKFLOW = {
    "name": "UK orders",
    "enabled": True,
    "triggers": [{"type": "webhook", "config": {"key": "vizi_uk"}}],
    "steps": [{"id": "pause", "type": "delay", "config": {"seconds": 0}}],
}


@pytest.fixture
async def c(settings: Settings) -> AsyncIterator[Container]:
    container = bootstrap(settings, broker=create_broker(settings))
    yield container
    await container.aclose()


async def jobs(c: Container, actor: str) -> list[dict[str, object]]:
    await c.relay.flush()
    async with c.engine.connect() as conn:
        query = select(outbox.c.arguments).where(outbox.c.actor == actor)
        return list((await conn.execute(query)).scalars())


async def test_a_replayed_order_runs_its_workflow_runs_again(c: Container) -> None:
    await c.bus.handle(CreateWorkflow(definition=WORKFLOW))
    started = datetime.now(UTC) - timedelta(seconds=1)
    accepted = await c.bus.handle(CreateOrder(payload=order_body()))
    assert isinstance(accepted, OrderAccepted)
    [first] = await jobs(c, "run_workflow")
    runs = await SqlEventLog(c.engine).runs_of_orders([accepted.order.id, uuid.uuid4()])
    assert runs == {accepted.order.id: [uuid.UUID(str(first["run_id"]))]}
    window = ReplayEvents(started, datetime.now(UTC) + timedelta(seconds=1), ("order.created",))
    [replayed] = await c.bus.handle(window)
    assert (replayed.type, replayed.events) == ("order.created", 1)
    assert replayed.jobs == 2  # its contact sync, and its workflow run
    assert await jobs(c, "run_workflow") == [first, first]


async def test_every_job_causing_type_is_replayable(c: Container) -> None:
    started = datetime.now(UTC) - timedelta(seconds=1)
    await c.bus.handle(CreateOrder(payload=order_body()))
    window = ReplayEvents(started, datetime.now(UTC) + timedelta(seconds=1))
    answer = {r.type: r for r in await c.bus.handle(window)}
    assert set(answer) == set(REPLAYABLE)
    assert {
        "order.created",
        "orders.processed",
        "order.retriggered",
        "notification.queued",
        "contact.resync_requested",
        "workflow.run_queued",
        "failed_job.replayed",
        "bulk.batch_due",
    } <= set(REPLAYABLE)
