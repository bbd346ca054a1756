"""Maintenance as jobs: the periodic runner enqueues each tick of the key usage flush, the
retention purges and the idempotency purge as a `run_maintenance` job on the bulk queue (once
per tick across schedulers: the tick is claimed first), so they get the retries and dead
letters of every job and wait behind interactive work. The outbox sweep and the cron triggers
stay in the scheduler: the sweep recovers what the broker lost and must not queue behind a bulk
backlog, and cron fire times are claimed one by one already."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass
from functools import partial

from app.periodic import PeriodicJob

log = logging.getLogger("visapi.maintenance")

RUN_MAINTENANCE = "run_maintenance"
IN_SCHEDULER = frozenset({"outbox_sweep", "workflow_cron"})


@dataclass(frozen=True)
class RunMaintenance:
    task: str  # a periodic job's name: flush_key_usage, log_retention, retention_outbox, ...


async def run_maintenance(cmd: RunMaintenance, *, tasks: Mapping[str, PeriodicJob]) -> object:
    job = tasks.get(cmd.task)
    if job is None or job.name in IN_SCHEDULER:
        # A task renamed or removed since the job was queued: nothing can make it valid.
        log.error("run_maintenance: no maintenance task %r; job acknowledged", cmd.task)
        return None
    done = await job.run()
    log.info("maintenance %s done: %s", cmd.task, done)
    return done


def enqueued(
    jobs: Iterable[PeriodicJob], enqueue: Callable[[str], Awaitable[object]]
) -> list[PeriodicJob]:
    """The scheduler's jobs: those in IN_SCHEDULER as they are, the others enqueued by name."""
    return [
        job
        if job.name in IN_SCHEDULER
        else PeriodicJob(job.name, job.interval_s, partial(enqueue, job.name))
        for job in jobs
    ]
