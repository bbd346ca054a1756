"""Periodic jobs: what runs on a fixed interval, each tick claimed once across schedulers."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Protocol

# schedule_ticks only needs to outlive the longest interval; a day leaves room for inspection.
TICK_RETENTION = timedelta(days=1)
PRUNE_TICKS_INTERVAL_S = 3600.0
PURGE_IDEMPOTENCY_INTERVAL_S = 3600.0

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class PeriodicJob:
    """`run` is awaited once per tick by whichever runner claims the tick."""

    name: str
    interval_s: float
    run: Callable[[], Awaitable[object]]

    def __post_init__(self) -> None:
        if self.interval_s < 0.001:
            raise ValueError(f"periodic job {self.name}: interval must be at least 1 ms")


def current_tick(now: datetime, interval_s: float) -> datetime:
    """The start of the interval containing `now`: floor(now / interval) * interval, in UTC.

    Computed in integer microseconds so that every runner derives the identical timestamp.
    """
    step = round(interval_s * 1_000_000)
    elapsed = (now - _EPOCH) // timedelta(microseconds=1)
    return _EPOCH + timedelta(microseconds=elapsed // step * step)


class PeriodicSettings(Protocol):
    @property
    def outbox_sweep_interval_s(self) -> float: ...

    @property
    def outbox_sweep_age_s(self) -> float: ...

    @property
    def key_usage_flush_interval_s(self) -> float: ...

    @property
    def log_retention_days(self) -> float: ...

    @property
    def log_retention_batch(self) -> int: ...

    @property
    def log_retention_interval_s(self) -> float: ...

    @property
    def retention_days(self) -> Mapping[str, float]: ...

    @property
    def retention_batch(self) -> int: ...

    @property
    def retention_interval_s(self) -> float: ...

    @property
    def workflow_cron_interval_s(self) -> float: ...


def periodic_jobs(
    settings: PeriodicSettings,
    *,
    sweep_outbox: Callable[[float], Awaitable[int]],
    prune_ticks: Callable[[datetime], Awaitable[int]],
    flush_key_usage: Callable[[], Awaitable[int]],
    purge_idempotency_keys: Callable[[datetime], Awaitable[int]],
    prune_expired: Callable[[str, datetime, int], Awaitable[int]],
    fire_cron: Callable[[], Awaitable[int]],
    now: Callable[[], datetime],
) -> list[PeriodicJob]:
    """The periodic jobs of the system, bound to their adapters by the composition root."""

    async def sweep() -> int:
        return await sweep_outbox(settings.outbox_sweep_age_s)

    async def prune_old_ticks() -> int:
        return await prune_ticks(now() - TICK_RETENTION)

    async def purge_keys() -> int:
        return await purge_idempotency_keys(now())

    def retention(rule: str, days: float, batch: int) -> Callable[[], Awaitable[int]]:
        async def run() -> int:
            return await prune_expired(rule, now() - timedelta(days=days), batch)

        return run

    # One job per table: each claimed, run and failing on its own, the tables purged side by side.
    retention_jobs = [
        PeriodicJob(
            f"retention_{rule}",
            settings.retention_interval_s,
            retention(rule, days, settings.retention_batch),
        )
        for rule, days in settings.retention_days.items()
    ]

    return [
        PeriodicJob("outbox_sweep", settings.outbox_sweep_interval_s, sweep),
        PeriodicJob("prune_schedule_ticks", PRUNE_TICKS_INTERVAL_S, prune_old_ticks),
        # API key use gathers in Redis (or memory) and reaches `last_used_at` here, in one
        # UPDATE per flush instead of one write per request.
        PeriodicJob("flush_key_usage", settings.key_usage_flush_interval_s, flush_key_usage),
        # Expired idempotency keys answer nothing (a repeat past the TTL runs afresh); this
        # only keeps the table small.
        PeriodicJob("purge_idempotency_keys", PURGE_IDEMPOTENCY_INTERVAL_S, purge_keys),
        # Business logs past retention go in chunks of `log_retention_batch` rows, each DELETE
        # its own short transaction, until none is left (DOMAIN.md "Batches").
        PeriodicJob(
            "log_retention",
            settings.log_retention_interval_s,
            retention("logs", settings.log_retention_days, settings.log_retention_batch),
        ),
        # The other kept tables, by the same chunked DELETE (README "Settings": what each keeps).
        *retention_jobs,
        # Cron triggers of workflows; each (trigger, fire time) is claimed on its own too, so
        # a fire time seen by two evaluations (or two schedulers) still runs once.
        PeriodicJob("workflow_cron", settings.workflow_cron_interval_s, fire_cron),
    ]
