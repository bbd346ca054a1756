"""The system's periodic jobs bound to a process's adapters: what the scheduler ticks, and the
maintenance tasks the `run_maintenance` job runs (app/maintenance.py)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from functools import partial

from app.periodic import PeriodicJob, periodic_jobs
from infrastructure.db.retention import prune
from infrastructure.db.schedule import prune_ticks
from visapi.platform import Platform


def _utcnow() -> datetime:
    return datetime.now(UTC)


def system_jobs(
    p: Platform,
    *,
    flush_key_usage: Callable[[], Awaitable[int]],
    purge_idempotency_keys: Callable[[datetime], Awaitable[int]],
    fire_cron: Callable[[], Awaitable[int]],
) -> list[PeriodicJob]:
    async def sweep_outbox(age_s: float) -> int:
        return await p.relay.sweep(older_than_s=age_s)

    return periodic_jobs(
        p.settings,
        sweep_outbox=sweep_outbox,
        prune_ticks=partial(prune_ticks, p.engine),
        flush_key_usage=flush_key_usage,
        purge_idempotency_keys=purge_idempotency_keys,
        prune_expired=partial(prune, p.engine),
        fire_cron=fire_cron,
        now=_utcnow,
    )
