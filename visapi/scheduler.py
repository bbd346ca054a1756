"""Periodic runner: claims each job's tick in the database, then runs it; `visapi scheduler`."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import socket
import uuid
from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, datetime
from functools import partial

from app.jobs import Job
from app.maintenance import RUN_MAINTENANCE, enqueued
from app.periodic import PeriodicJob, current_tick
from app.workflows.commands import FireCronTriggers
from infrastructure.db.schedule import claim_tick
from infrastructure.queue.broker import close_broker
from infrastructure.queue.maintenance import maintenance_timer
from visapi.bootstrap import Container, bootstrap
from visapi.maintenance import system_jobs
from visapi.settings import Settings

log = logging.getLogger("visapi.scheduler")

Claim = Callable[[str, datetime], Awaitable[bool]]


def _utcnow() -> datetime:
    return datetime.now(UTC)


class PeriodicRunner:
    """Every `tick_s`, claims the current tick of each job and runs the jobs it won.

    Any number of runners (scheduler processes, embedded `serve`) may run: the unique claim row
    lets exactly one run each tick. A job still running from an earlier tick is not started
    again by this runner, and a failing job or claim is logged; the loop never dies of it.
    """

    def __init__(
        self,
        jobs: Sequence[PeriodicJob],
        *,
        claim: Claim,
        tick_s: float,
        now: Callable[[], datetime] = _utcnow,
    ) -> None:
        self._jobs = list(jobs)
        self._claim = claim
        self._tick_s = tick_s
        self._now = now
        self._last: dict[str, datetime] = {}  # last tick this runner tried to claim, per job
        self._tasks: dict[str, asyncio.Task[bool]] = {}
        self._loop_task: asyncio.Task[None] | None = None

    def start(self) -> None:
        """Start the loop on the running event loop (e.g. inside `serve`'s lifespan)."""
        if self._loop_task is None:
            self._loop_task = asyncio.get_running_loop().create_task(self._loop(), name="periodic")

    @property
    def jobs(self) -> list[PeriodicJob]:
        return list(self._jobs)

    async def stop(self, grace_s: float = 10.0) -> None:
        """Stop ticking, give running jobs `grace_s` seconds to finish, then cancel them."""
        if self._loop_task is not None:
            self._loop_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._loop_task
            self._loop_task = None
        running = [t for t in self._tasks.values() if not t.done()]
        if running:
            _, pending = await asyncio.wait(running, timeout=grace_s)
            for task in pending:
                task.cancel()
            await asyncio.gather(*running, return_exceptions=True)

    async def run_due(self) -> list[str]:
        """One pass: claim and run whatever is due now; return the names of the jobs run."""
        started = self._spawn_due()
        ran = await asyncio.gather(*started.values())
        return [name for name, did_run in zip(started, ran, strict=True) if did_run]

    async def _loop(self) -> None:
        while True:
            self._spawn_due()
            await asyncio.sleep(self._tick_s)

    def _spawn_due(self) -> dict[str, asyncio.Task[bool]]:
        now = self._now()
        started: dict[str, asyncio.Task[bool]] = {}
        for job in self._jobs:
            previous = self._tasks.get(job.name)
            if previous is not None and not previous.done():
                continue
            tick = current_tick(now, job.interval_s)
            if self._last.get(job.name) == tick:
                continue  # already claimed (or lost) by this runner: no query per loop pass
            task = asyncio.create_task(self._claim_and_run(job, tick), name=f"periodic:{job.name}")
            self._tasks[job.name] = started[job.name] = task
        return started

    async def _claim_and_run(self, job: PeriodicJob, tick: datetime) -> bool:
        try:
            claimed = await self._claim(job.name, tick)
        except Exception:
            log.exception("periodic %s: could not claim tick %s", job.name, tick.isoformat())
            return False  # _last unchanged: the next pass tries this tick again
        self._last[job.name] = tick
        if not claimed:
            return False
        try:
            await job.run()
        except Exception:
            log.exception("periodic %s failed at tick %s", job.name, tick.isoformat())
        return True


def periodic_runner(container: Container) -> PeriodicRunner:
    """The system's periodic jobs bound to a container (its engine claims the ticks)."""
    claimer = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"

    jobs = system_jobs(
        container,
        flush_key_usage=container.access.flush_usage,
        purge_idempotency_keys=container.idempotency.purge,
        fire_cron=partial(container.bus.handle, FireCronTriggers(claimer)),
    )

    async def enqueue(task: str) -> int:
        # Through the outbox: published now, or by a sweep if the broker is away.
        return await container.relay.add(
            [Job(RUN_MAINTENANCE, {"task": task})], correlation_id=None
        )

    return PeriodicRunner(
        enqueued(jobs, enqueue),
        claim=partial(claim_tick, container.engine, claimer=claimer),
        tick_s=container.settings.scheduler_tick_s,
    )


def run_scheduler(settings: Settings) -> None:
    """`visapi scheduler`: run the periodic jobs until SIGINT/SIGTERM (production mode only)."""
    if settings.redis_url is None:
        raise SystemExit(
            "visapi scheduler needs VISAPI_REDIS_URL; without Redis, `visapi serve` runs the"
            " periodic jobs in-process"
        )
    asyncio.run(_run_until_signal(settings))


async def _run_until_signal(settings: Settings) -> None:
    container = bootstrap(settings)
    runner = periodic_runner(container)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    runner.start()
    # Schedulers requeue dead workers' jobs too: with every worker dead, they still come back.
    maintenance = maintenance_timer(container.broker)
    if maintenance is not None:
        maintenance.start()
    log.info("scheduler running: %s", ", ".join(j.name for j in runner.jobs))
    try:
        await stop.wait()
        log.info("scheduler stopping")
    finally:
        if maintenance is not None:
            await asyncio.to_thread(maintenance.stop)
        await runner.stop()
        await container.aclose()
        await asyncio.to_thread(close_broker, container.broker)
