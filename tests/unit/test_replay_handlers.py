"""Replays of dead letters on the fake unit of work: the job goes back through the outbox in
the transaction that marks the row, on the registry's queue, never twice."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

import pytest

from app.errors import InvalidInput, NotFound
from app.jobs import ActorSpec, Queue
from app.queues.commands import (
    ActorUnknown,
    AlreadyReplayed,
    JobReplayed,
    ReplayFailedJob,
    ReplayFailedJobs,
)
from app.queues.handlers import replay_failed_job, replay_failed_jobs
from app.queues.ports import FailedJobFilter, FailedJobView
from domain.jobs import FailedJobReplayed
from tests.fakes import FakeUnitOfWorkFactory
from tests.unit.handler_support import T0, Clock


async def _noop(**_: Any) -> None:
    return None


REGISTRY = {
    "sync_contact": ActorSpec("sync_contact", Queue.DEFAULT, _noop),
    # Moved to critical since its letters died on default.
    "send_notification": ActorSpec("send_notification", Queue.CRITICAL, _noop),
}


@pytest.fixture
def uow() -> FakeUnitOfWorkFactory:
    return FakeUnitOfWorkFactory()


def dead(
    uow: FakeUnitOfWorkFactory, actor: str = "sync_contact", minutes: int = 0, **kw: Any
) -> FailedJobView:
    job = FailedJobView(
        id=uuid.uuid4(),
        message_id="m",
        queue=kw.pop("queue", "default"),
        actor=actor,
        arguments={"order_id": "o-1"},
        error="boom",
        attempts=5,
        failed_at=T0 + timedelta(minutes=minutes),
        replayed_at=kw.pop("replayed_at", None),
    )
    uow.store.failed_jobs[job.id] = job
    return job


async def one(uow: FakeUnitOfWorkFactory, id: uuid.UUID, **kw: Any) -> Any:
    cmd = ReplayFailedJob(id, **kw)
    return await replay_failed_job(cmd, uow=uow, registry=REGISTRY, now=Clock())


async def many(uow: FakeUnitOfWorkFactory, **kw: Any) -> Any:
    cmd = ReplayFailedJobs(**{"where": FailedJobFilter(), **kw})
    return await replay_failed_jobs(cmd, uow=uow, registry=REGISTRY, now=Clock())


async def test_replaying_an_unknown_dead_letter_is_not_found(uow: FakeUnitOfWorkFactory) -> None:
    with pytest.raises(NotFound) as raised:
        await one(uow, uuid.uuid4())
    assert raised.value.field == "id"


async def test_a_replay_marks_the_row_and_queues_its_job(uow: FakeUnitOfWorkFactory) -> None:
    job = dead(uow)
    outcome = await one(uow, job.id, actor="admin:ana")
    assert isinstance(outcome, JobReplayed)
    assert uow.store.failed_jobs[job.id].replayed_at == T0
    assert [(j.actor, dict(j.arguments)) for j in uow.store.outbox] == [
        ("sync_contact", {"order_id": "o-1"})
    ]
    assert [type(e) for e in uow.store.events] == [FailedJobReplayed]
    assert uow.store.event_rows[0][2] == "admin:ana"


async def test_a_replayed_row_is_not_replayed_twice(uow: FakeUnitOfWorkFactory) -> None:
    job = dead(uow)
    await one(uow, job.id)
    assert isinstance(await one(uow, job.id), AlreadyReplayed)
    assert len(uow.store.outbox) == 1


async def test_a_letter_of_an_unknown_actor_is_left_alone(uow: FakeUnitOfWorkFactory) -> None:
    job = dead(uow, "retired_actor")
    assert isinstance(await one(uow, job.id), ActorUnknown)
    assert uow.store.failed_jobs[job.id].replayed_at is None
    assert uow.store.outbox == []


async def test_a_batch_replays_oldest_first_up_to_the_limit(uow: FakeUnitOfWorkFactory) -> None:
    newest, oldest = dead(uow, minutes=5), dead(uow, minutes=1)
    done = await many(uow, limit=1)
    assert [j.id for j in done.replayed] == [oldest.id]
    assert done.has_more is True
    assert uow.store.failed_jobs[newest.id].replayed_at is None


async def test_a_batch_names_the_actors_it_cannot_replay(uow: FakeUnitOfWorkFactory) -> None:
    dead(uow, "zeta_gone")
    dead(uow, "alpha_gone")
    known = dead(uow)
    done = await many(uow)
    assert [j.id for j in done.replayed] == [known.id]
    assert done.unknown_actors == ["alpha_gone", "zeta_gone"]
    assert done.has_more is False


async def test_a_batch_skips_rows_replayed_before(uow: FakeUnitOfWorkFactory) -> None:
    dead(uow, replayed_at=T0)
    done = await many(uow)
    assert done.replayed == []
    assert uow.store.outbox == []


async def test_a_batch_follows_its_filter(uow: FakeUnitOfWorkFactory) -> None:
    dead(uow, "sync_contact")
    wanted = dead(uow, "send_notification", queue="critical")
    done = await many(uow, where=FailedJobFilter(queue="critical"))
    assert [j.id for j in done.replayed] == [wanted.id]


async def test_a_batch_refuses_to_replay_replayed_rows(uow: FakeUnitOfWorkFactory) -> None:
    with pytest.raises(InvalidInput) as raised:
        await many(uow, where=FailedJobFilter(replayed=True))
    assert raised.value.field == "filter.replayed"


@pytest.mark.parametrize("limit", [0, 1001])
async def test_a_batch_limit_outside_1_to_1000_is_refused(
    uow: FakeUnitOfWorkFactory, limit: int
) -> None:
    with pytest.raises(InvalidInput) as raised:
        await many(uow, limit=limit)
    assert raised.value.field == "limit"
