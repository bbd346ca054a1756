"""Replays of dead letters on both dialects: back through the outbox, consumed again, once."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import insert, select

from app.errors import InvalidInput, NotFound
from app.orders.commands import CreateOrder, OrderAccepted
from app.queues.commands import (
    ActorUnknown,
    AlreadyReplayed,
    JobReplayed,
    JobsReplayed,
    ReplayFailedJob,
    ReplayFailedJobs,
)
from app.queues.ports import FailedJobFilter
from infrastructure.db.tables import contact_syncs, events, failed_jobs, outbox
from infrastructure.queue.broker import create_broker
from infrastructure.vendors.sandbox import SandboxContactSync
from tests.integration.workers import drain, fast, worker_on
from visapi.bootstrap import Container, bootstrap
from visapi.settings import Settings

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "vizi-orders"
IL_ORDER = json.loads((FIXTURES / "il-uk-eta.json").read_text())


async def rows(c: Container, table: Any) -> list[Any]:
    async with c.engine.connect() as conn:
        return list((await conn.execute(select(table))).all())


async def test_a_dead_letter_replayed_is_consumed_again_and_succeeds(settings: Settings) -> None:
    settings = fast(settings, job_max_retries=3)
    broker = create_broker(settings)
    sandbox = SandboxContactSync()
    sandbox.fail_always("auth", "token rejected")  # permanent: dead letter at once
    api = bootstrap(settings, broker=broker, contacts=sandbox)
    try:
        with worker_on(broker, settings, sandbox) as worker:
            created = await api.bus.handle(CreateOrder(payload=IL_ORDER))
            assert isinstance(created, OrderAccepted)
            await drain(broker, worker)
            [dead] = await rows(api, failed_jobs)
            assert (dead.attempts, dead.replayed_at) == (1, None)

            sandbox.fail_always(None)  # the operator fixed the CRM token
            outcome = await api.bus.handle(ReplayFailedJob(dead.id, actor="user:ops"))
            assert isinstance(outcome, JobReplayed)
            assert outcome.failed_job.replayed_at is not None
            await drain(broker, worker)

        [sync] = await rows(api, contact_syncs)
        assert (sync.order_uuid, sync.synced, sync.attempts) == (created.order.id, True, 2)
        assert [c.contact.phone for c in sandbox.contacts()] == ["972541112233"]
        [dead] = await rows(api, failed_jobs)  # no new dead letter; this one marked
        assert dead.replayed_at is not None
        syncs = [r for r in await rows(api, outbox) if r.actor == "sync_contact"]
        first, again = sorted(syncs, key=lambda r: r.created_at)  # then the confirmation
        assert (again.actor, again.queue, again.arguments) == (
            "sync_contact",
            "default",
            {"order_id": str(created.order.id)},
        )
        assert again.id != first.id
        assert again.published_at is not None  # the relay's fast path after commit
        replayed = [e for e in await rows(api, events) if e.type == "failed_job.replayed"]
        assert [(e.aggregate_id, e.actor) for e in replayed] == [(dead.id, "user:ops")]

        before = len(await rows(api, outbox))
        second = await api.bus.handle(ReplayFailedJob(dead.id))
        assert isinstance(second, AlreadyReplayed)
        assert len(await rows(api, outbox)) == before  # nothing written the second time
    finally:
        await api.aclose()


async def add_dead_letters(c: Container, *specs: tuple[str, str, bool]) -> list[uuid.UUID]:
    """Rows (actor, queue, replayed), failing a minute apart, oldest first."""
    base = datetime.now(UTC) - timedelta(hours=1)
    values = [
        {
            "id": uuid.uuid4(),
            "message_id": str(uuid.uuid4()),
            "queue": queue,
            "actor": actor,
            "arguments": {"order_id": str(uuid.uuid4())},
            "error": "RuntimeError: boom",
            "attempts": 6,
            "failed_at": base + timedelta(minutes=i),
            "replayed_at": base if replayed else None,
        }
        for i, (actor, queue, replayed) in enumerate(specs)
    ]
    async with c.engine.begin() as conn:
        await conn.execute(insert(failed_jobs), values)
    return [v["id"] for v in values]


@pytest.fixture
async def api(settings: Settings) -> Any:
    c = bootstrap(settings, broker=create_broker(settings))
    yield c
    await c.aclose()


async def test_replay_refuses_an_unknown_actor_by_name_and_an_unknown_id(api: Container) -> None:
    [gone] = await add_dead_letters(api, ("send_fax", "bulk", False))
    outcome = await api.bus.handle(ReplayFailedJob(gone))
    assert isinstance(outcome, ActorUnknown)
    assert outcome.failed_job.actor == "send_fax"
    with pytest.raises(NotFound, match="no failed job"):
        await api.bus.handle(ReplayFailedJob(uuid.uuid4()))
    [row] = await rows(api, failed_jobs)
    assert row.replayed_at is None
    assert await rows(api, outbox) == []


async def test_bulk_replay_takes_the_oldest_matching_and_names_unknown_actors(
    api: Container,
) -> None:
    ids = await add_dead_letters(
        api,
        ("sync_contact", "default", False),
        ("sync_contact", "default", True),  # replayed already: never again
        ("send_fax", "default", False),  # no such actor any more
        ("sync_contact", "default", False),
        ("sync_contact", "bulk", False),  # another queue: outside the filter
        ("sync_contact", "default", False),
    )
    where = FailedJobFilter(queue="default")
    first = await api.bus.handle(ReplayFailedJobs(where, limit=2, actor="key:vk_ops"))
    assert isinstance(first, JobsReplayed)
    assert [j.id for j in first.replayed] == [ids[0], ids[3]]
    assert (first.unknown_actors, first.has_more) == (["send_fax"], True)
    rest = await api.bus.handle(ReplayFailedJobs(where, limit=2))
    assert ([j.id for j in rest.replayed], rest.has_more) == ([ids[5]], False)
    assert (await api.bus.handle(ReplayFailedJobs(where))).replayed == []

    await api.relay.flush()  # the fast path publishes in the background
    sent = await rows(api, outbox)
    assert sorted(r.arguments["order_id"] for r in sent) == sorted(
        [
            r.arguments["order_id"]
            for r in await rows(api, failed_jobs)
            if r.id in {ids[0], ids[3], ids[5]}
        ]
    )
    assert all(r.queue == "default" and r.published_at is not None for r in sent)
    marked = {r.id for r in await rows(api, failed_jobs) if r.replayed_at is not None}
    assert marked == {ids[0], ids[1], ids[3], ids[5]}


async def test_bulk_replay_refuses_replayed_true_and_a_bad_limit(api: Container) -> None:
    with pytest.raises(InvalidInput, match="unreplayed jobs only") as refused:
        await api.bus.handle(ReplayFailedJobs(FailedJobFilter(replayed=True)))
    assert refused.value.field == "filter.replayed"
    with pytest.raises(InvalidInput, match="between 1 and 1000"):
        await api.bus.handle(ReplayFailedJobs(FailedJobFilter(), limit=0))


async def test_a_replay_goes_to_the_queue_the_registry_names_now(api: Container) -> None:
    [moved] = await add_dead_letters(api, ("sync_contact", "bulk", False))
    assert isinstance(await api.bus.handle(ReplayFailedJob(moved)), JobReplayed)
    [row] = await rows(api, outbox)
    assert row.queue == "default"
