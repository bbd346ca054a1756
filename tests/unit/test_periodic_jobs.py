"""Periodic jobs: tick arithmetic every runner agrees on, and what each job is bound to."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from app.periodic import TICK_RETENTION, PeriodicJob, current_tick, periodic_jobs

NOW = datetime(2026, 3, 1, 12, 0, 7, 250_000, tzinfo=UTC)


@pytest.mark.parametrize(
    ("now", "interval", "tick"),
    [
        (NOW, 10.0, datetime(2026, 3, 1, 12, 0, 0, tzinfo=UTC)),
        (NOW, 0.5, datetime(2026, 3, 1, 12, 0, 7, tzinfo=UTC)),
        (NOW, 3600.0, datetime(2026, 3, 1, 12, tzinfo=UTC)),
        (
            datetime(2026, 3, 1, 12, 0, 10, tzinfo=UTC),
            10.0,
            datetime(2026, 3, 1, 12, 0, 10, tzinfo=UTC),
        ),
    ],
)
def test_current_tick_floors_to_the_interval(
    now: datetime, interval: float, tick: datetime
) -> None:
    assert current_tick(now, interval) == tick


def test_a_tick_is_the_same_in_any_time_zone() -> None:
    elsewhere = NOW.astimezone(ZoneInfo("Asia/Jerusalem"))
    assert current_tick(elsewhere, 10.0) == current_tick(NOW, 10.0)


def test_fractional_intervals_do_not_drift() -> None:
    # 0.1 s is not exact in binary; microsecond integers keep every runner on the same tick.
    assert current_tick(datetime(2026, 3, 1, 12, 0, 0, 299_999, tzinfo=UTC), 0.1) == datetime(
        2026, 3, 1, 12, 0, 0, 200_000, tzinfo=UTC
    )


@pytest.mark.parametrize("interval", [0.0, 0.0009, -1.0])
def test_intervals_under_a_millisecond_are_refused_naming_the_job(interval: float) -> None:
    async def run() -> None: ...

    with pytest.raises(ValueError, match="periodic job sweep: interval must be at least 1 ms"):
        PeriodicJob("sweep", interval, run)


@dataclass(frozen=True)
class Settings:
    outbox_sweep_interval_s: float = 5.0
    outbox_sweep_age_s: float = 30.0
    key_usage_flush_interval_s: float = 60.0
    log_retention_days: float = 30.0
    log_retention_batch: int = 500
    log_retention_interval_s: float = 600.0
    retention_days: Mapping[str, float] = field(
        default_factory=lambda: {"events": 90.0, "failed_jobs": 7.0}
    )
    retention_batch: int = 1000
    retention_interval_s: float = 900.0
    workflow_cron_interval_s: float = 20.0


class Calls:
    def __init__(self) -> None:
        self.seen: list[tuple[str, tuple[Any, ...]]] = []

    def __call__(self, name: str) -> Any:
        async def record(*args: Any) -> int:
            self.seen.append((name, args))
            return 0

        return record


def jobs(calls: Calls, settings: Settings | None = None) -> dict[str, PeriodicJob]:
    made = periodic_jobs(
        settings or Settings(),
        sweep_outbox=calls("sweep"),
        prune_ticks=calls("prune"),
        flush_key_usage=calls("flush"),
        purge_idempotency_keys=calls("purge"),
        prune_expired=calls("expire"),
        fire_cron=calls("cron"),
        now=lambda: NOW,
    )
    return {job.name: job for job in made}


def test_every_job_has_its_own_name_and_interval() -> None:
    assert {name: job.interval_s for name, job in jobs(Calls()).items()} == {
        "outbox_sweep": 5.0,
        "prune_schedule_ticks": 3600.0,
        "flush_key_usage": 60.0,
        "purge_idempotency_keys": 3600.0,
        "log_retention": 600.0,
        "retention_events": 900.0,
        "retention_failed_jobs": 900.0,
        "workflow_cron": 20.0,
    }


async def test_the_sweep_passes_the_age_setting() -> None:
    calls = Calls()
    await jobs(calls)["outbox_sweep"].run()
    assert calls.seen == [("sweep", (30.0,))]


async def test_ticks_older_than_a_day_are_pruned() -> None:
    calls = Calls()
    await jobs(calls)["prune_schedule_ticks"].run()
    assert calls.seen == [("prune", (NOW - TICK_RETENTION,))]


async def test_idempotency_keys_expired_by_now_are_purged() -> None:
    calls = Calls()
    await jobs(calls)["purge_idempotency_keys"].run()
    assert calls.seen == [("purge", (NOW,))]


async def test_each_retention_job_prunes_its_own_table_and_window() -> None:
    calls = Calls()
    made = jobs(calls)
    await made["retention_failed_jobs"].run()
    await made["log_retention"].run()
    assert calls.seen == [
        ("expire", ("failed_jobs", NOW - timedelta(days=7), 1000)),
        ("expire", ("logs", NOW - timedelta(days=30), 500)),
    ]


def test_no_retention_rules_means_no_retention_jobs_but_logs() -> None:
    names = set(jobs(Calls(), Settings(retention_days={})))
    assert {n for n in names if "retention" in n} == {"log_retention"}
