"""A bulk operation on PostgreSQL + Redis with real workers on the bulk queue and a scheduler: a
worker SIGKILLed in the middle leaves the operation to a new one, which goes on from the last
finished batch: every order is done and no batch runs twice."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import func, select, update

from domain.orders.bulk import BATCH
from infrastructure.db.tables import events, orders
from tests.e2e.gql_support import gql_data
from tests.e2e.pipeline_support import e2e_run, e2e_settings
from tests.factories import seed_orders
from tests.processes import CLI
from tests.vendor import FakeVendor

START = """mutation { markOrdersProcessedWhere(filter: {unprocessed: true}) { id total } }"""
READ = "query($id: ID!) { bulkOperation(id: $id) { status total done } }"
COUNT = 2_000


async def test_a_worker_killed_mid_operation_resumes_from_the_last_finished_batch(
    postgres_url: str, redis_url: str, fake_vendor: FakeVendor, tmp_path: Path
) -> None:
    settings = e2e_settings(postgres_url, redis_url, fake_vendor)
    async with e2e_run(settings, fake_vendor, tmp_path) as run:
        await seed_orders(run.c.engine, COUNT, children=False)
        async with run.c.engine.begin() as conn:  # every seeded order unprocessed
            await conn.execute(update(orders).values(processed_at=None))
        op = (await gql_data(run.http, START, run.admin))["markOrdersProcessedWhere"]
        assert op["total"] == COUNT

        async def progress() -> dict[str, Any]:
            found: dict[str, Any] = (await gql_data(run.http, READ, run.admin, id=op["id"]))[
                "bulkOperation"
            ]
            return found

        # The scheduler's outbox sweep publishes a next batch's job that a killed worker
        # committed but had not published yet.
        run.procs.start("scheduler", [*CLI, "scheduler"])
        first = run.procs.worker("bulk-1", "--queues", "bulk")
        await run.until(lambda: _at_least(progress, 4 * BATCH), "the first batches")
        run.procs.kill(first)
        killed_at = (await progress())["done"]
        assert killed_at < COUNT, "the operation finished before the kill: make it longer"
        run.procs.worker("bulk-2", "--queues", "bulk")
        await run.until(lambda: _finished(progress), "the operation to finish")
        final = await progress()
        async with run.c.engine.connect() as conn:
            left = await conn.scalar(
                select(func.count()).select_from(orders).where(orders.c.processed_at.is_(None))
            )
            due = (
                (
                    await conn.execute(
                        select(events.c.payload).where(events.c.type == "bulk.batch_due")
                    )
                )
                .scalars()
                .all()
            )
    assert (final["status"], final["done"], final["total"]) == ("FINISHED", COUNT, COUNT)
    assert left == 0
    # One job made due per batch, each position once: no batch ran twice.
    positions = sorted(p["position"] for p in due)
    assert positions == list(range(0, COUNT, BATCH))


async def _at_least(progress: Any, done: int) -> bool:
    return bool((await progress())["done"] >= done)


async def _finished(progress: Any) -> bool:
    return bool((await progress())["status"] == "FINISHED")
