"""Retention on both dialects: expired rows of each kept table go, in bounded batches, and what
is still needed (young rows, unpublished outbox rows, unreplayed dead letters) stays."""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import Table, event, insert, select
from sqlalchemy.ext.asyncio import AsyncEngine

from infrastructure.db.engine import create_engine
from infrastructure.db.retention import prune
from infrastructure.db.tables import (
    delivery_events,
    failed_jobs,
    outbox,
    sandbox_messages,
    webhook_payloads,
)
from tests.maintenance import run_maintenance
from visapi.bootstrap import bootstrap
from visapi.settings import Settings

DAY = timedelta(days=1)


def ago(days: float) -> datetime:
    return datetime.now(UTC) - days * DAY


def payload(name: str, received_days: float) -> dict[str, Any]:
    return {
        "id": uuid.uuid5(uuid.NAMESPACE_URL, name),
        "source": "vizi",
        "status": "accepted",
        "body": {"client": {"name": "Avi Cohen", "passport": "A1234567"}},
        "received_at": ago(received_days),
    }


def job(name: str, created_days: float, published_days: float | None) -> dict[str, Any]:
    return {
        "id": uuid.uuid5(uuid.NAMESPACE_URL, name),
        "actor": "sync_contact",
        "arguments": {"order_id": name},
        "queue": "default",
        "created_at": ago(created_days),
        "published_at": None if published_days is None else ago(published_days),
    }


def delivery(name: str, received_days: float) -> dict[str, Any]:
    return {
        "id": uuid.uuid5(uuid.NAMESPACE_URL, name),
        "payload": {"entry": []},
        "signature_verified": True,
        "processing_status": "applied",
        "received_at": ago(received_days),
    }


def dead(name: str, failed_days: float, replayed_days: float | None) -> dict[str, Any]:
    return {
        "id": uuid.uuid5(uuid.NAMESPACE_URL, name),
        "queue": "default",
        "actor": "send_confirmation",
        "arguments": {"order_id": name},
        "error": "CRM answered 503",
        "attempts": 6,
        "failed_at": ago(failed_days),
        "replayed_at": None if replayed_days is None else ago(replayed_days),
    }


def sandboxed(name: str, created_days: float) -> dict[str, Any]:
    return {
        "id": uuid.uuid5(uuid.NAMESPACE_URL, name),
        "vendor": "cbb",
        "operation": "contact.create",
        "phone": "972501234567",
        "payload": {"name": "Dana Levi", "email": "dana@example.com"},
        "created_at": ago(created_days),
    }


# (table, rows, names expected to survive) with the default windows: payloads 30 days, outbox
# 7 after publication, delivery events 90, dead letters 30 after replay and 90 unreplayed,
# sandbox messages 30.
SEEDS: list[tuple[Table, list[dict[str, Any]], set[str]]] = [
    (
        webhook_payloads,
        [payload("p-old", 31), payload("p-older", 400), payload("p-young", 29)],
        {"p-young"},
    ),
    (
        outbox,
        [
            job("o-published-long-ago", 30, 8),
            job("o-published-recently", 30, 6),
            job("o-never-published", 400, None),  # a job never sent: kept whatever its age
        ],
        {"o-published-recently", "o-never-published"},
    ),
    (delivery_events, [delivery("d-old", 91), delivery("d-young", 89)], {"d-young"}),
    (
        failed_jobs,
        [
            dead("f-replayed-long-ago", 60, 31),
            dead("f-replayed-recently", 60, 29),
            dead("f-unreplayed-past-its-window", 91, None),
            dead("f-unreplayed-old", 60, None),  # older than the replayed window: still kept
            dead("f-unreplayed-young", 1, None),
        ],
        {"f-replayed-recently", "f-unreplayed-old", "f-unreplayed-young"},
    ),
    (sandbox_messages, [sandboxed("s-old", 31), sandboxed("s-young", 29)], {"s-young"}),
]
KEPT_TABLES = {table.name for table, _, _ in SEEDS}


def ids(names: set[str]) -> set[uuid.UUID]:
    return {uuid.uuid5(uuid.NAMESPACE_URL, n) for n in names}


async def seed(engine: AsyncEngine) -> None:
    async with engine.begin() as conn:
        for table, rows, _ in SEEDS:
            await conn.execute(insert(table), rows)


async def left(engine: AsyncEngine, table: Table) -> set[uuid.UUID]:
    async with engine.connect() as conn:
        return set((await conn.execute(select(table.c.id))).scalars())


@pytest.fixture
async def engine(db_url: str) -> AsyncIterator[AsyncEngine]:
    e = create_engine(db_url, pool_size=4)
    yield e
    await e.dispose()


def deletes_on(engine: AsyncEngine) -> list[str]:
    """Table name of every DELETE the engine executes from now on."""
    seen: list[str] = []

    @event.listens_for(engine.sync_engine, "after_execute")
    def count(conn: Any, clause: Any, *args: Any) -> None:
        if getattr(clause, "is_delete", False):
            seen.append(clause.table.name)

    return seen


async def test_the_periodic_runner_purges_each_table_and_keeps_what_is_needed(
    settings: Settings,
) -> None:
    container = bootstrap(dataclasses.replace(settings, retention_batch=2))
    try:
        await seed(container.engine)
        deletes = deletes_on(container.engine)
        ran = await run_maintenance(container)
        for table, _, kept in SEEDS:
            assert await left(container.engine, table) == ids(kept), table.name
        assert {f"retention_{r}" for r in settings.retention_days} <= set(ran)
        # Batches of 2: webhook payloads 2 expired (2, then an empty 0), outbox 1, delivery
        # events 1, dead letters 1 replayed + 1 unreplayed, sandbox messages 1: one DELETE each when
        # short.
        assert sorted(d for d in deletes if d in KEPT_TABLES) == sorted(
            ["webhook_payloads"] * 2
            + ["outbox", "delivery_events", "sandbox_messages"]
            + ["failed_jobs"] * 2
        )
    finally:
        await container.aclose()


async def test_windows_come_from_the_settings(settings: Settings) -> None:
    settings = dataclasses.replace(
        settings,
        retention_webhook_payloads_days=500,
        retention_outbox_days=5,
        retention_unreplayed_failed_jobs_days=0.5,
    )
    container = bootstrap(settings)
    try:
        await seed(container.engine)
        await run_maintenance(container)
        every_payload = ids({"p-old", "p-older", "p-young"})
        assert await left(container.engine, webhook_payloads) == every_payload
        assert await left(container.engine, outbox) == ids({"o-never-published"})
        assert await left(container.engine, failed_jobs) == ids({"f-replayed-recently"})
    finally:
        await container.aclose()


async def test_prune_deletes_in_bounded_batches_until_done(engine: AsyncEngine) -> None:
    rows = [payload(f"old-{i}", 31 + i / 100) for i in range(23)] + [payload("young", 1)]
    async with engine.begin() as conn:
        await conn.execute(insert(webhook_payloads), rows)
    deletes = deletes_on(engine)
    assert await prune(engine, "webhook_payloads", ago(30), batch=5) == 23
    assert deletes == ["webhook_payloads"] * 5  # 5 + 5 + 5 + 5 + 3, each its own statement
    assert await left(engine, webhook_payloads) == ids({"young"})
    assert await prune(engine, "webhook_payloads", ago(30), batch=5) == 0


async def test_prune_refuses_a_batch_that_is_not_positive(engine: AsyncEngine) -> None:
    with pytest.raises(ValueError, match="batch must be positive"):
        await prune(engine, "outbox", ago(7), batch=0)
