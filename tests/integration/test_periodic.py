"""Periodic runs on both dialects: one run per claimed tick, the sweeper, tick pruning."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, insert, select
from sqlalchemy.ext.asyncio import AsyncEngine

from app.maintenance import IN_SCHEDULER, RunMaintenance
from app.orders.commands import CreateOrder, OrderAccepted
from app.periodic import PeriodicJob, current_tick
from infrastructure.db.engine import create_engine
from infrastructure.db.schedule import claim_tick, prune_ticks
from infrastructure.db.tables import outbox, schedule_ticks
from infrastructure.queue.broker import create_broker
from tests.waiting import eventually
from visapi.bootstrap import bootstrap
from visapi.scheduler import PeriodicRunner, periodic_runner
from visapi.settings import Settings

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "vizi-orders"
NOW = datetime(2026, 3, 1, 12, 0, 7, 250_000, tzinfo=UTC)


@pytest.fixture
async def engine(db_url: str) -> AsyncIterator[AsyncEngine]:
    e = create_engine(db_url, pool_size=4)
    yield e
    await e.dispose()


def runner(engine: AsyncEngine, name: str, jobs: list[PeriodicJob], now: Any) -> PeriodicRunner:
    return PeriodicRunner(
        jobs, claim=partial(claim_tick, engine, claimer=name), tick_s=0.01, now=lambda: now[0]
    )


async def test_two_runners_racing_on_one_tick_run_the_job_once(engine: AsyncEngine) -> None:
    runs: list[str] = []

    async def job() -> None:
        runs.append("ran")

    jobs = [PeriodicJob("count", 10.0, job)]
    now = [NOW]
    a, b = runner(engine, "a", jobs, now), runner(engine, "b", jobs, now)
    ran_a, ran_b = await asyncio.gather(a.run_due(), b.run_due())
    assert runs == ["ran"]
    assert sorted(ran_a + ran_b) == ["count"]
    # The same tick again: nothing; the next tick: once more.
    again_a, again_b = await asyncio.gather(a.run_due(), b.run_due())
    assert again_a == again_b == []
    now[0] = NOW + timedelta(seconds=10)
    await asyncio.gather(b.run_due(), a.run_due())
    assert runs == ["ran", "ran"]
    async with engine.connect() as conn:
        ticks = (await conn.execute(select(schedule_ticks.c.tick_at))).scalars().all()
    assert sorted(ticks) == [
        current_tick(NOW, 10.0),
        current_tick(NOW, 10.0) + timedelta(seconds=10),
    ]


async def test_a_failing_job_does_not_stop_the_loop(engine: AsyncEngine) -> None:
    calls = 0

    async def broken() -> None:
        nonlocal calls
        calls += 1
        raise RuntimeError("boom")

    r = PeriodicRunner(
        [PeriodicJob("broken", 0.02, broken)],
        claim=partial(claim_tick, engine, claimer="solo"),
        tick_s=0.005,
    )
    r.start()
    try:
        await eventually(lambda: calls >= 3, why=lambda: f"ran {calls} times, not 3")
    finally:
        await r.stop()


async def test_the_sweeper_publishes_a_stale_outbox_row(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = dataclasses.replace(
        settings, outbox_sweep_interval_s=0.05, outbox_sweep_age_s=0.0, scheduler_tick_s=0.01
    )
    broker = create_broker(settings)
    container = bootstrap(settings, broker=broker)
    monkeypatch.setattr(broker, "enqueue", _refuse)
    payload = json.loads((FIXTURES / "il-uk-eta.json").read_text())
    result = await container.bus.handle(CreateOrder(payload=payload))
    assert isinstance(result, OrderAccepted)
    monkeypatch.undo()
    r = periodic_runner(container)
    assert [j.name for j in r.jobs] == [
        "outbox_sweep",
        "prune_schedule_ticks",
        "flush_key_usage",
        "purge_idempotency_keys",
        "log_retention",
        "retention_webhook_payloads",
        "retention_outbox",
        "retention_delivery_events",
        "retention_failed_jobs",
        "retention_unreplayed_failed_jobs",
        "retention_sandbox_messages",
        "workflow_cron",
    ]
    r.start()
    try:
        published = await eventually(
            lambda: _published_at(container.engine), why="sweeper did not publish"
        )
    finally:
        await r.stop()
        await container.aclose()
    assert published is not None
    [data] = list(broker.queues["default"].queue)
    assert json.loads(data)["actor_name"] == "sync_contact"


def _refuse(message: Any, *, delay: int | None = None) -> Any:
    raise ConnectionError("broker down")


async def _published_at(engine: AsyncEngine) -> datetime | None:
    async with engine.connect() as conn:
        value: datetime | None = await conn.scalar(select(outbox.c.published_at))
        return value


async def test_prune_ticks_deletes_old_claims_in_batches(engine: AsyncEngine) -> None:
    old = datetime.now(UTC) - timedelta(days=2)
    rows = [
        {
            "id": uuid.uuid4(),
            "job_name": "j",
            "tick_at": old + timedelta(seconds=i),
            "claimed_by": "x",
        }
        for i in range(1500)
    ]
    async with engine.begin() as conn:
        await conn.execute(insert(schedule_ticks), rows)
    assert await claim_tick(engine, "j", datetime.now(UTC), "fresh")
    deleted = await prune_ticks(engine, datetime.now(UTC) - timedelta(days=1))
    assert deleted == 1500
    async with engine.connect() as conn:
        left = await conn.scalar(select(func.count()).select_from(schedule_ticks))
    assert left == 1


async def test_maintenance_ticks_are_enqueued_once_as_bulk_jobs(settings: Settings) -> None:
    """Two schedulers, one tick: each maintenance task is one `run_maintenance` job on the
    bulk queue (through the outbox), run by a worker like any job."""
    settings = dataclasses.replace(settings, scheduler_tick_s=0.01)
    a = bootstrap(settings, broker=create_broker(settings))
    b = bootstrap(settings, broker=create_broker(settings))
    try:
        ran = await asyncio.gather(periodic_runner(a).run_due(), periodic_runner(b).run_due())
        await a.relay.flush()
        await b.relay.flush()
        async with a.engine.connect() as conn:
            rows = (
                await conn.execute(
                    select(outbox.c.arguments, outbox.c.queue).where(
                        outbox.c.actor == "run_maintenance"
                    )
                )
            ).all()
        maintenance = sorted(n for n in ran[0] + ran[1] if n not in IN_SCHEDULER)
        assert sorted(r.arguments["task"] for r in rows) == maintenance  # each tick once
        assert "flush_key_usage" in maintenance
        assert "log_retention" in maintenance
        assert {r.queue for r in rows} == {"bulk"}
        # What the worker does with one: the task, through the bus.
        assert await a.bus.handle(RunMaintenance("purge_idempotency_keys")) == 0
        assert await a.bus.handle(RunMaintenance("no_such_task")) is None  # acknowledged
    finally:
        await a.aclose()
        await b.aclose()
