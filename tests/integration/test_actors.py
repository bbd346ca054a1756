"""Actors consumed by a real Dramatiq worker: StubBroker on both dialects, RedisBroker on Redis."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import dramatiq
import pytest
from sqlalchemy import select

from app.orders.commands import CreateOrder, OrderAccepted
from infrastructure.cache.memory import MemoryCache
from infrastructure.db.tables import contact_syncs, failed_jobs, outbox
from infrastructure.queue.broker import close_broker, create_broker
from infrastructure.vendors.sandbox import SandboxContactSync
from tests.waiting import eventually
from visapi.bootstrap import Container, bootstrap
from visapi.settings import Settings
from visapi.worker import EmbeddedWorker

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "vizi-orders"
IL_ORDER = json.loads((FIXTURES / "il-uk-eta.json").read_text())

# One valid message per actor: a new actor without an entry here fails the registry test.
SAMPLE_ARGUMENTS: dict[str, dict[str, Any]] = {
    "sync_contact": {"order_id": str(uuid.uuid4())},  # unknown order: acknowledged
    "send_notification": {"notification_id": str(uuid.uuid4())},  # unknown row: acknowledged
    "run_workflow": {"run_id": str(uuid.uuid4())},  # unknown run: acknowledged
}


def fast(settings: Settings, **changes: Any) -> Settings:
    """Small Dramatiq timings so retries take milliseconds."""
    values: dict[str, Any] = {"job_min_backoff_ms": 10, "job_max_backoff_ms": 40, **changes}
    return dataclasses.replace(settings, **values)


@contextmanager
def worker_on(
    broker: dramatiq.Broker, settings: Settings, sandbox: SandboxContactSync
) -> Iterator[EmbeddedWorker]:
    worker = EmbeddedWorker(
        broker,
        lambda b: bootstrap(settings, broker=b, cache=MemoryCache(), contacts=sandbox),
        worker_timeout_ms=50,
    )
    worker.start()
    try:
        yield worker
    finally:
        worker.stop()


async def drain(broker: dramatiq.Broker, worker: EmbeddedWorker) -> None:
    # A synced order queues its confirmation on `critical`: wait for both, in causal order.
    for queue in ("default", "critical"):
        await asyncio.to_thread(broker.join, queue, timeout=20_000)
    await asyncio.to_thread(worker.join)


async def sync_row(c: Container, order_uuid: uuid.UUID) -> Any:
    async with c.engine.connect() as conn:
        query = select(contact_syncs).where(contact_syncs.c.order_uuid == order_uuid)
        return (await conn.execute(query)).first()


async def failed_once(c: Container, order_uuid: uuid.UUID) -> bool:
    sync = await sync_row(c, order_uuid)
    return sync is not None and sync.error_count >= 1


async def synced_row(c: Container, order_uuid: uuid.UUID) -> Any:
    """The order's contact sync row once it is synced, else None."""
    sync = await sync_row(c, order_uuid)
    return sync if sync is not None and sync.synced else None


async def create_il_order(c: Container) -> uuid.UUID:
    result = await c.bus.handle(CreateOrder(payload=IL_ORDER))
    assert isinstance(result, OrderAccepted)
    return result.order.id


async def failed_rows(c: Container) -> list[Any]:
    async with c.engine.connect() as conn:
        return list((await conn.execute(select(failed_jobs))).all())


async def test_il_order_ends_synced_and_redelivery_is_harmless(settings: Settings) -> None:
    settings = fast(settings)
    broker = create_broker(settings)
    sandbox = SandboxContactSync()
    api = bootstrap(settings, broker=broker, contacts=sandbox)
    try:
        with worker_on(broker, settings, sandbox) as worker:
            order_uuid = await create_il_order(api)
            await drain(broker, worker)
            # At-least-once: the same message again (same id) changes nothing.
            async with api.engine.connect() as conn:
                query = select(outbox).where(outbox.c.actor == "sync_contact")
                [row] = (await conn.execute(query)).all()
            broker.enqueue(
                dramatiq.Message(
                    queue_name="default",
                    actor_name="sync_contact",
                    args=(),
                    kwargs=row.arguments,
                    options={},
                    message_id=str(row.id),
                )
            )
            await drain(broker, worker)
        sync = await sync_row(api, order_uuid)
        assert (sync.synced, sync.attempts, sync.error_count, sync.language) == (True, 1, 0, "he")
        assert sync.created is True
        [recorded] = sandbox.contacts()
        assert sync.contact_id == recorded.contact_id
        assert (recorded.contact.phone, recorded.contact.name) == ("972541112233", "Avi Cohen")
        assert sandbox.calls == 1
    finally:
        await api.aclose()


async def test_retried_until_synced(settings: Settings) -> None:
    settings = fast(settings, job_max_retries=5)
    broker = create_broker(settings)
    sandbox = SandboxContactSync()
    sandbox.fail_next(2, "network", "connection reset")
    api = bootstrap(settings, broker=broker, contacts=sandbox)
    try:
        with worker_on(broker, settings, sandbox) as worker:
            order_uuid = await create_il_order(api)
            await drain(broker, worker)
        sync = await sync_row(api, order_uuid)
        assert (sync.synced, sync.attempts, sync.error_count) == (True, 3, 2)
        assert (sync.last_error_category, sync.last_error) == ("network", "connection reset")
        assert await failed_rows(api) == []
    finally:
        await api.aclose()


async def test_exhausted_job_is_written_to_failed_jobs(settings: Settings) -> None:
    settings = fast(settings, job_max_retries=2)
    broker = create_broker(settings)
    sandbox = SandboxContactSync()
    sandbox.fail_always("vendor_error", "HTTP 503")
    api = bootstrap(settings, broker=broker, contacts=sandbox)
    try:
        with worker_on(broker, settings, sandbox) as worker:
            order_uuid = await create_il_order(api)
            await drain(broker, worker)
        sync = await sync_row(api, order_uuid)
        assert (sync.synced, sync.attempts, sync.error_count) == (False, 3, 3)
        [dead] = await failed_rows(api)
        async with api.engine.connect() as conn:
            outbox_id = await conn.scalar(select(outbox.c.id))
        assert (dead.message_id, dead.queue, dead.actor) == (
            str(outbox_id),
            "default",
            "sync_contact",
        )
        assert dead.arguments == {"order_id": str(order_uuid)}
        assert dead.attempts == 3
        assert dead.error == "ContactSyncError: vendor_error: HTTP 503"
    finally:
        await api.aclose()


async def test_time_limit_interrupts_an_async_actor(sqlite_url: str) -> None:
    settings = Settings(database_url=sqlite_url, job_time_limit_ms=100, job_max_retries=0)
    broker = create_broker(settings)
    sandbox = SandboxContactSync()
    sandbox.latency_s = 30.0
    api = bootstrap(settings, broker=broker, contacts=sandbox)
    try:
        with worker_on(broker, settings, sandbox) as worker:
            order_uuid = await create_il_order(api)
            await drain(broker, worker)
        [dead] = await failed_rows(api)
        assert dead.error.startswith("TimeLimitExceeded")
        sync = await sync_row(api, order_uuid)
        assert (sync.synced, sync.attempts, sync.last_error_category) == (False, 1, "timeout")
    finally:
        await api.aclose()


async def test_jobs_left_in_memory_return_to_the_outbox_on_stop(settings: Settings) -> None:
    # A retry far in the future is still waiting when the embedded worker stops.
    settings = fast(settings, job_min_backoff_ms=600_000, job_max_backoff_ms=600_000)
    broker = create_broker(settings)
    sandbox = SandboxContactSync()
    sandbox.fail_next(1)
    api = bootstrap(settings, broker=broker, contacts=sandbox)
    try:
        with worker_on(broker, settings, sandbox):
            order_uuid = await create_il_order(api)
            await eventually(lambda: failed_once(api, order_uuid), why="first attempt did not run")
        # (No join: the retry waits ten minutes in the delay queue; stop() does not wait.)
        async with api.engine.connect() as conn:
            [row] = (await conn.execute(select(outbox))).all()
        assert row.published_at is None  # handed back for the next start's sweeper
        assert await api.relay.sweep(older_than_s=0) == 1
    finally:
        await api.aclose()


@pytest.mark.redis
async def test_redis_broker_worker_retries_and_syncs(sqlite_url: str, redis_url: str) -> None:
    namespace = f"visapi-test-{uuid.uuid4().hex[:12]}"
    settings = Settings(
        database_url=sqlite_url,
        redis_url=redis_url,
        redis_namespace=namespace,
        job_min_backoff_ms=10,
        job_max_backoff_ms=40,
    )
    broker = create_broker(settings)
    sandbox = SandboxContactSync()
    sandbox.fail_next(1, "timeout", "vendor slow")
    api = bootstrap(settings, broker=broker, cache=MemoryCache(), contacts=sandbox)
    try:
        with worker_on(broker, settings, sandbox):
            order_uuid = await create_il_order(api)
            sync = await eventually(lambda: synced_row(api, order_uuid), why="not synced in time")
            await asyncio.to_thread(broker.join, "default", timeout=10_000)
        assert (sync.attempts, sync.error_count, sync.last_error_category) == (2, 1, "timeout")
        assert len(sandbox.contacts()) == 1
    finally:
        await api.aclose()
        keys = broker.client.keys(f"{namespace}:*")  # type: ignore[attr-defined]
        if keys:
            broker.client.delete(*keys)  # type: ignore[attr-defined]
        close_broker(broker)
