"""Replay handlers: a dead letter goes back to the outbox in the transaction that marks it.

The job reaches the outbox as the consequence of a `FailedJobReplayed` event (app.queues.
policies), so the replay is in the audit trail with who asked for it, and the relay
publishes it after commit like any other job. A replayed row is never replayed twice: the
row is locked (PostgreSQL) or the database write-locked (SQLite) while it is checked, and
`mark_replayed` changes only rows still unreplayed.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from datetime import datetime

from app.errors import InvalidInput, NotFound
from app.jobs import ActorSpec
from app.logs.ports import LogLevel
from app.ports import UnitOfWork, UnitOfWorkFactory
from app.queues.commands import (
    ActorUnknown,
    AlreadyReplayed,
    JobReplayed,
    JobsReplayed,
    ReplayFailedJob,
    ReplayFailedJobs,
    ReplayOutcome,
)
from app.queues.ports import FailedJobView
from domain.jobs import FailedJobReplayed

MAX_REPLAY_BATCH = 1000


def _replayed(
    job: FailedJobView, spec: ActorSpec, at: datetime, actor: str | None
) -> FailedJobReplayed:
    return FailedJobReplayed(
        aggregate_id=job.id,
        occurred_at=at,
        actor=actor,
        job_actor=job.actor,
        # The registry's queue, not the stored one: an actor moved to another queue since
        # would otherwise be published where no worker of it listens.
        queue=spec.queue.value,
        arguments=dict(job.arguments),
    )


def _log_replays(unit: UnitOfWork, jobs: list[FailedJobView], actor: str | None) -> None:
    for job in jobs:
        unit.logs.add(
            LogLevel.INFO,
            f"dead letter {job.id} ({job.actor}) replayed by {actor or 'the system'}",
            metadata={"failed_job_id": str(job.id), "actor": job.actor},
            job_id=job.message_id,
        )


async def replay_failed_job(
    cmd: ReplayFailedJob,
    *,
    uow: UnitOfWorkFactory,
    registry: Mapping[str, ActorSpec],
    now: Callable[[], datetime],
) -> ReplayOutcome:
    async with uow(actor=cmd.actor, correlation_id=cmd.correlation_id) as unit:
        job = await unit.failed_jobs.get(cmd.id)
        if job is None:
            raise NotFound(f"no failed job with id {cmd.id}", field="id")
        if job.replayed_at is not None:
            return AlreadyReplayed(job)
        spec = registry.get(job.actor)
        if spec is None:
            return ActorUnknown(job)
        at = now()
        if not await unit.failed_jobs.mark_replayed([job.id], at):
            return AlreadyReplayed(job)  # a concurrent replay won (SQLite without row locks)
        unit.record([_replayed(job, spec, at, cmd.actor)])
        _log_replays(unit, [job], cmd.actor)
        await unit.commit()
    return JobReplayed(dataclasses.replace(job, replayed_at=at))


async def replay_failed_jobs(
    cmd: ReplayFailedJobs,
    *,
    uow: UnitOfWorkFactory,
    registry: Mapping[str, ActorSpec],
    now: Callable[[], datetime],
) -> JobsReplayed:
    if cmd.where.replayed:
        raise InvalidInput(
            "replayFailedJobs replays unreplayed jobs only: omit filter.replayed or set it false",
            field="filter.replayed",
        )
    if not 1 <= cmd.limit <= MAX_REPLAY_BATCH:
        raise InvalidInput(f"limit must be between 1 and {MAX_REPLAY_BATCH}", field="limit")
    async with uow(actor=cmd.actor, correlation_id=cmd.correlation_id) as unit:
        # One more than the limit tells whether more remain after this batch.
        candidates = await unit.failed_jobs.replayable(cmd.where, list(registry), cmd.limit + 1)
        known = candidates[: cmd.limit]
        unknown = await unit.failed_jobs.other_actors(cmd.where, list(registry))
        at = now()
        changed = set(await unit.failed_jobs.mark_replayed([j.id for j in known], at))
        done = [j for j in known if j.id in changed]
        unit.record([_replayed(j, registry[j.actor], at, cmd.actor) for j in done])
        _log_replays(unit, done, cmd.actor)
        await unit.commit()
    return JobsReplayed(
        replayed=[dataclasses.replace(j, replayed_at=at) for j in done],
        unknown_actors=unknown,
        has_more=len(candidates) > cmd.limit,
    )
