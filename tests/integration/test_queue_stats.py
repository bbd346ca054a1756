"""queueStats on both brokers: ready, delayed and in-flight from the broker itself, dead
letters from the database, throughput from the workers' counters."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

import pytest
import redis
from sqlalchemy import insert

from app.queues.ports import Throughput
from app.queues.queries import QueueStatsView
from infrastructure.cache.redis import redis_client
from infrastructure.db.tables import failed_jobs
from infrastructure.queue.broker import create_broker
from infrastructure.queue.throughput import (
    BUCKET_TTL_S,
    MemoryCounts,
    RedisCountReader,
    RedisCounts,
)
from tests.integration.workers import (
    Script,
    drain,
    drop_namespace,
    fast,
    message,
    redis_settings,
    scripted_spec,
    worker_on,
)
from visapi.bootstrap import bootstrap
from visapi.settings import Settings


def by_queue(stats: list[QueueStatsView]) -> dict[str, QueueStatsView]:
    return {s.queue: s for s in stats}


@pytest.mark.parametrize("broker_kind", ["stub", "redis"])
async def test_depths_and_dead_letters(
    settings: Settings, broker_kind: str, request: pytest.FixtureRequest
) -> None:
    if broker_kind == "redis":
        settings = redis_settings(settings, request.getfixturevalue("redis_url"))
    broker = create_broker(settings)
    api = bootstrap(settings, broker=broker)
    consumer: Any = None
    try:
        for _ in range(3):
            broker.enqueue(message("sync_contact", {"order_id": str(uuid.uuid4())}))
        broker.enqueue(message("sync_contact", {"order_id": "x"}, "bulk"), delay=600_000)
        broker.enqueue(message("sync_contact", {"order_id": "y"}, "critical"))
        # A consumer that fetched one message and has not acknowledged it: one in flight.
        consumer = broker.consume("critical", prefetch=1, timeout=100)
        fetched = next(m for m in consumer if m is not None)
        async with api.engine.begin() as conn:
            await conn.execute(insert(failed_jobs), [_dead("default", None), _dead("bulk", None)])
            await conn.execute(insert(failed_jobs), [_dead("default", datetime.now(UTC))])

        stats = by_queue(await api.queues.stats())
        assert list(stats) == ["critical", "default", "bulk"]
        got = {q: (s.ready, s.delayed, s.in_flight, s.failed) for q, s in stats.items()}
        assert got == {"critical": (0, 0, 1, 0), "default": (3, 0, 0, 1), "bulk": (0, 1, 0, 1)}

        consumer.ack(fetched)
        assert by_queue(await api.queues.stats())["critical"].in_flight == 0
    finally:
        if consumer is not None:
            consumer.close()
        await api.aclose()
        if broker_kind == "redis":
            drop_namespace(broker, settings)


def _dead(queue: str, replayed_at: datetime | None) -> dict[str, Any]:
    return {
        "id": uuid.uuid4(),
        "queue": queue,
        "actor": "sync_contact",
        "arguments": {},
        "error": "RuntimeError: boom",
        "attempts": 1,
        "failed_at": datetime.now(UTC),
        "replayed_at": replayed_at,
    }


@pytest.mark.parametrize("broker_kind", ["stub", "redis"])
async def test_throughput_counts_processed_retried_and_failed(
    settings: Settings, broker_kind: str, request: pytest.FixtureRequest
) -> None:
    settings = fast(settings, job_max_retries=1)
    if broker_kind == "redis":
        settings = redis_settings(settings, request.getfixturevalue("redis_url"))
    broker = create_broker(settings)
    api = bootstrap(settings, broker=broker)
    script = Script()
    script.plan("flaky", RuntimeError("once"))  # retried, then processed
    script.always("broken", RuntimeError("always"))  # retried, then failed
    try:
        spec = scripted_spec(script, settings)
        with worker_on(broker, settings, extra={"scripted": spec}) as worker:
            for key in ("ok-1", "ok-2", "flaky", "broken"):
                broker.enqueue(message("scripted", {"key": key}))
            await drain(broker, worker)
        default = by_queue(await api.queues.stats())["default"]
        for window in (default.last_minute, default.last_five_minutes):
            assert (window.processed, window.retried, window.failed) == (3, 2, 1)
        assert default.failed == 1  # the dead letter of "broken"
        bulk = by_queue(await api.queues.stats())["bulk"]
        assert (bulk.last_minute.processed, bulk.last_five_minutes.failed) == (0, 0)
    finally:
        await api.aclose()
        if broker_kind == "redis":
            drop_namespace(broker, settings)


@pytest.mark.parametrize("backend", ["memory", "redis"])
async def test_counts_leave_the_windows_as_they_age(
    backend: str, request: pytest.FixtureRequest
) -> None:
    now = 1_900_000_000.0
    namespace = f"visapi-test-{uuid.uuid4().hex[:12]}"
    sink: Any
    reader: Any
    clients: list[Any] = []
    if backend == "memory":
        sink = reader = MemoryCounts()
    else:
        url = request.getfixturevalue("redis_url")
        clients = [redis.Redis.from_url(url), redis_client(url)]
        sink, reader = RedisCounts(clients[0], namespace), RedisCountReader(clients[1], namespace)
    try:
        sink.add("default", "processed", now - 1)
        sink.add("default", "processed", now - 50)
        sink.add("default", "failed", now - 200)
        sink.add("default", "processed", now - 400)  # older than both windows
        sink.add("bulk", "retried", now)
        minute = await reader.window(60, ["default", "bulk"], now)
        five = await reader.window(300, ["default", "bulk"], now)
        assert minute == {"default": Throughput(processed=2), "bulk": Throughput(retried=1)}
        assert five == {"default": Throughput(processed=2, failed=1), "bulk": Throughput(retried=1)}
    finally:
        if clients:
            keys = clients[0].keys(f"{namespace}:*")
            assert all(0 < clients[0].ttl(k) <= BUCKET_TTL_S for k in keys)  # nothing kept
            if keys:
                clients[0].delete(*keys)
            clients[0].close()
            await clients[1].aclose()
