"""Cron triggers on both dialects: schedulers racing on one tick queue one run, time zones,
edits followed without restart, disabled workflows and stale fire times skipped."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from app.workflows.commands import FireCronTriggers, SetWorkflowEnabled, UpdateWorkflow
from infrastructure.db.tables import workflow_runs
from tests.integration.workflow_support import create, rows, workflow_settings
from visapi.bootstrap import Container, bootstrap
from visapi.scheduler import periodic_runner
from visapi.settings import Settings

# 1 March 2026: Jerusalem is UTC+2 (no daylight saving yet).
NINE_IN_JERUSALEM = datetime(2026, 3, 1, 7, 0, 20, tzinfo=UTC)


def cron(schedule: str, timezone: str = "UTC", **extra: Any) -> dict[str, Any]:
    return {
        "name": "cron workflow",
        "triggers": [{"type": "cron", "config": {"schedule": schedule, "timezone": timezone}}],
        "steps": [{"id": "w", "type": "delay", "config": {"seconds": 0}}],
        **extra,
    }


class Clock:
    def __init__(self, at: datetime) -> None:
        self.at = at

    def __call__(self) -> datetime:
        return self.at


@pytest.fixture
def clock() -> Clock:
    return Clock(NINE_IN_JERUSALEM)


@pytest.fixture
async def schedulers(
    settings: Settings, tmp_path: Path, clock: Clock
) -> AsyncIterator[list[Container]]:
    """Two containers on one database, as two scheduler processes would be."""
    s = workflow_settings(settings, tmp_path)
    containers = [bootstrap(s, now=clock), bootstrap(s, now=clock)]
    yield containers
    for c in containers:
        await c.aclose()


async def fire(c: Container, claimer: str) -> int:
    queued: int = await c.bus.handle(FireCronTriggers(claimer))
    return queued


async def runs(c: Container) -> list[Any]:
    return await rows(c, workflow_runs)


async def test_two_schedulers_racing_on_one_tick_queue_one_run(
    schedulers: list[Container],
) -> None:
    first, second = schedulers
    await create(first, cron("0 9 * * *", "Asia/Jerusalem"))
    queued = await asyncio.gather(
        *(fire(c, f"scheduler-{i}") for i, c in enumerate(schedulers * 3))
    )
    assert sum(queued) == 1
    (run,) = await runs(first)
    assert (run.trigger_type, run.trigger_key, run.status) == ("cron", "0 9 * * *", "queued")
    assert run.context["firedAt"] == "2026-03-01T07:00:00+00:00"
    assert await fire(second, "later") == 0  # same fire time, later tick


async def test_the_periodic_runner_fires_cron_triggers(
    schedulers: list[Container], clock: Clock
) -> None:
    c = schedulers[0]
    await create(c, cron("0 9 * * *", "Asia/Jerusalem"))
    runner = periodic_runner(c)
    assert "workflow_cron" in await runner.run_due()
    assert len(await runs(c)) == 1


async def test_a_time_zone_decides_when_a_trigger_fires(
    schedulers: list[Container], clock: Clock
) -> None:
    c = schedulers[0]
    await create(c, cron("0 9 * * *", "UTC"))
    assert await fire(c, "s") == 0  # 09:00 UTC is two hours away
    clock.at = datetime(2026, 3, 1, 9, 0, 30, tzinfo=UTC)
    assert await fire(c, "s") == 1


async def test_edits_are_followed_without_restart(
    schedulers: list[Container], clock: Clock
) -> None:
    c, other = schedulers
    view = await create(c, cron("0 10 * * *", "UTC"))
    assert await fire(other, "s") == 0
    # Edited through one process; the other sees it on its next tick (shared cache eviction
    # in production; here each has its own memory cache, evicted by its own handlers).
    await c.bus.handle(UpdateWorkflow(view.id, cron("0 7 * * *", "UTC")))
    assert await fire(c, "s") == 1
    await c.bus.handle(SetWorkflowEnabled(view.id, False))
    clock.at = datetime(2026, 3, 2, 7, 0, 1, tzinfo=UTC)
    assert await fire(c, "s") == 0


async def test_a_fire_time_older_than_the_lookback_is_skipped(
    schedulers: list[Container], clock: Clock
) -> None:
    c = schedulers[0]
    await create(c, cron("0 9 * * *", "Asia/Jerusalem"))
    clock.at = datetime(2026, 3, 1, 7, 5, tzinfo=UTC)  # five minutes late: schedulers were down
    assert await fire(c, "s") == 0
