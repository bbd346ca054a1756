"""A job runs with the correlation id of the change that caused it (from its outbox row) and
its message id as job id: in the process's log lines and in the business logs it writes."""

from __future__ import annotations

import asyncio
import uuid
from functools import partial
from typing import Any

import dramatiq
from sqlalchemy import select

from app import context
from app.bus import MessageBus
from app.jobs import ActorSpec, Queue
from app.logs.ports import BusinessLog, LogLevel
from infrastructure.db.tables import logs
from infrastructure.queue.broker import create_broker
from infrastructure.queue.relay import to_message
from visapi.bootstrap import Container, bootstrap
from visapi.settings import Settings
from visapi.worker import EmbeddedWorker

seen: list[tuple[int, str | None, str | None]] = []


async def probe(bus: MessageBus, *, business_log: BusinessLog, n: int) -> None:
    seen.append((n, context.correlation_id.get(), context.job_id.get()))
    await business_log.write(LogLevel.INFO, f"probe {n} ran")


def with_probe(settings: Settings, broker: dramatiq.Broker) -> Container:
    container = bootstrap(settings, broker=broker)
    handler = partial(probe, business_log=container.business_log)
    container.registry = {"probe": ActorSpec("probe", Queue.DEFAULT, handler, max_retries=0)}
    return container


async def test_jobs_carry_the_ids_of_their_message(settings: Settings) -> None:
    seen.clear()
    broker = create_broker(settings)
    worker = EmbeddedWorker(broker, partial(with_probe, settings), worker_timeout_ms=50)
    worker.start()
    first, second = uuid.uuid4(), uuid.uuid4()
    try:
        broker.enqueue(to_message(first, "probe", "default", {"n": 1}, "cid-from-outbox"))
        broker.enqueue(to_message(second, "probe", "default", {"n": 2}, None))
        await asyncio.to_thread(broker.join, "default", timeout=10_000)
        await asyncio.to_thread(worker.join)
    finally:
        await asyncio.to_thread(worker.stop)
    # Each job sees its own ids only: the second has no correlation id, not the first's.
    assert sorted(seen) == [(1, "cid-from-outbox", str(first)), (2, None, str(second))]
    reader = bootstrap(settings)
    try:
        async with reader.engine.connect() as conn:
            rows: list[Any] = list(
                (await conn.execute(select(logs).order_by(logs.c.message))).all()
            )
    finally:
        await reader.aclose()
    assert [(r.message, r.correlation_id, r.job_id) for r in rows] == [
        ("probe 1 ran", "cid-from-outbox", str(first)),
        ("probe 2 ran", None, str(second)),
    ]
