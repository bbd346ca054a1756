"""fire_cron_triggers on the fake unit of work: a due fire time queues one run, claimed once
per (trigger, fire time) whoever evaluates the tick; one older than the lookback is skipped."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest

from app.workflows.commands import FireCronTriggers
from app.workflows.cron import fire_cron_triggers
from domain.workflows.runs import RunStatus
from tests.fakes import FakeUnitOfWorkFactory
from tests.unit.handler_support import T0, Clock
from tests.unit.workflow_support import create, enabled_of

EVERY_5_MIN = {"type": "cron", "config": {"schedule": "*/5 * * * *", "timezone": "UTC"}}
LOOKBACK_S = 120.0


@pytest.fixture
def uow() -> FakeUnitOfWorkFactory:
    return FakeUnitOfWorkFactory()


async def fire(uow: FakeUnitOfWorkFactory, clock: Clock, claimer: str = "sched-1") -> int:
    return await fire_cron_triggers(
        FireCronTriggers(claimer),
        enabled=enabled_of(uow),
        uow=uow,
        lookback_s=LOOKBACK_S,
        now=clock,
        new_id=uuid.uuid4,
    )


async def test_a_due_trigger_queues_a_run_with_its_job(uow: FakeUnitOfWorkFactory) -> None:
    workflow = await create(uow, triggers=[EVERY_5_MIN])
    assert await fire(uow, Clock(T0 + timedelta(seconds=30))) == 1
    (run,) = uow.store.runs.values()
    assert (run.workflow_id, run.status, run.trigger_type) == (
        workflow.id,
        RunStatus.QUEUED,
        "cron",
    )
    assert run.context == {"schedule": "*/5 * * * *", "timezone": "UTC", "firedAt": T0.isoformat()}
    assert [j.actor for j in uow.store.outbox] == ["run_workflow"]


async def test_a_second_scheduler_on_the_same_tick_queues_nothing(
    uow: FakeUnitOfWorkFactory,
) -> None:
    await create(uow, triggers=[EVERY_5_MIN])
    assert await fire(uow, Clock(T0), "sched-1") == 1
    assert await fire(uow, Clock(T0 + timedelta(seconds=20)), "sched-2") == 0
    assert len(uow.store.runs) == 1
    assert list(uow.store.schedule_ticks.values()) == ["sched-1"]


async def test_the_next_fire_time_queues_again(uow: FakeUnitOfWorkFactory) -> None:
    await create(uow, triggers=[EVERY_5_MIN])
    await fire(uow, Clock(T0))
    assert await fire(uow, Clock(T0 + timedelta(minutes=5))) == 1
    assert len(uow.store.runs) == 2


async def test_a_fire_time_older_than_the_lookback_is_skipped(uow: FakeUnitOfWorkFactory) -> None:
    await create(uow, triggers=[EVERY_5_MIN])
    assert await fire(uow, Clock(T0 + timedelta(seconds=LOOKBACK_S + 1))) == 0
    assert (uow.store.runs, uow.store.schedule_ticks) == ({}, {})


async def test_the_schedule_is_read_in_its_timezone(uow: FakeUnitOfWorkFactory) -> None:
    # 09:00 on weekdays in Jerusalem is 07:00 UTC in December (UTC+2).
    await create(uow)  # valid(): "0 9 * * 1-5", Asia/Jerusalem
    assert await fire(uow, Clock(T0)) == 0  # 09:00 UTC, Monday
    assert await fire(uow, Clock(T0.replace(hour=7))) == 1


async def test_workflows_without_a_cron_trigger_queue_nothing(
    uow: FakeUnitOfWorkFactory,
) -> None:
    await create(uow, triggers=[{"type": "manual"}])
    assert await fire(uow, Clock(T0)) == 0
    assert uow.store.commits == 1  # the workflow's own creation only
