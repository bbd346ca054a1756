"""Jobs in GraphQL: failedJobs (dead letters), queueStats, and the replay mutations."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import strawberry
from strawberry import UNSET
from strawberry.scalars import JSON
from strawberry.types import Info

from app.jobs import Queue
from app.queues.commands import (
    ActorUnknown,
    AlreadyReplayed,
    JobsReplayed,
    ReplayFailedJob,
    ReplayFailedJobs,
)
from app.queues.ports import FailedJobFilter as Where
from app.queues.ports import FailedJobView, Throughput
from app.queues.queries import QueueStatsView
from domain.auth.permissions import Permission
from graph.arguments import given, parse_id
from graph.context import Context
from graph.errors import invalid_input
from graph.pagination import PageInfo, after_of, cursor, page_info, page_size
from graph.permissions import requires
from graph.scalars import as_utc

QUEUE_NAMES = tuple(q.value for q in Queue)


@strawberry.type(description="A job that failed for good (retries exhausted or a permanent error).")
class FailedJob:
    id: strawberry.ID
    message_id: str | None
    queue: str
    actor: str
    # A job's arguments and errors carry a customer's fields.
    arguments: JSON | None = strawberry.field(extensions=requires(Permission.ORDERS_READ))
    error: str | None = strawberry.field(
        description="The last error: its type and message.",
        extensions=requires(Permission.ORDERS_READ),
    )
    attempts: int
    failed_at: datetime
    replayed_at: datetime | None

    @classmethod
    def from_view(cls, v: FailedJobView) -> FailedJob:
        return cls(
            id=strawberry.ID(str(v.id)),
            message_id=v.message_id,
            queue=v.queue,
            actor=v.actor,
            arguments=JSON(v.arguments),
            error=v.error,
            attempts=v.attempts,
            failed_at=v.failed_at,
            replayed_at=v.replayed_at,
        )


@strawberry.input(description="Conditions on dead letters; all given ones must hold.")
class FailedJobFilter:
    queue: str | None = strawberry.field(default=UNSET, description="critical, default or bulk.")
    actor: str | None = UNSET
    replayed: bool | None = UNSET
    failed_from: datetime | None = strawberry.field(
        default=UNSET, description="Failed at or after this instant (inclusive)."
    )
    failed_to: datetime | None = strawberry.field(
        default=UNSET, description="Failed before this instant (exclusive)."
    )


def to_where(value: FailedJobFilter | None) -> Where:
    if value is None or not given(value):
        return Where()
    queue = value.queue if given(value.queue) else None
    if queue is not None and queue not in QUEUE_NAMES:
        raise invalid_input(
            f"unknown queue {queue[:32]!r}; queues are {', '.join(QUEUE_NAMES)}", "filter.queue"
        )
    actor = value.actor.strip() if value.actor is not None and given(value.actor) else None
    if actor == "":
        raise invalid_input("filter.actor must not be blank", "filter.actor")
    return Where(
        queue=queue,
        actor=actor,
        replayed=value.replayed if given(value.replayed) else None,
        failed_from=as_utc(value.failed_from)
        if value.failed_from and given(value.failed_from)
        else None,
        failed_to=as_utc(value.failed_to) if value.failed_to and given(value.failed_to) else None,
    )


@strawberry.type
class FailedJobEdge:
    cursor: str
    node: FailedJob


@strawberry.type
class FailedJobConnection:
    edges: list[FailedJobEdge]
    page_info: PageInfo
    where: strawberry.Private[Where]

    @strawberry.field
    async def total_count(self, info: Info[Context, None]) -> int:
        return await info.context.queues.count_failed_jobs(self.where)


@strawberry.type(description="Deliveries finished in a window, and the rates per minute.")
class QueueThroughput:
    processed: int = strawberry.field(description="Succeeded.")
    retried: int = strawberry.field(description="Failed and scheduled to run again.")
    failed: int = strawberry.field(description="Failed for good (now dead letters).")
    processed_per_minute: float
    failed_per_minute: float

    @classmethod
    def of(cls, t: Throughput, minutes: int) -> QueueThroughput:
        return cls(
            processed=t.processed,
            retried=t.retried,
            failed=t.failed,
            processed_per_minute=t.processed / minutes,
            failed_per_minute=t.failed / minutes,
        )


@strawberry.type(description="One queue now: what waits, what runs, what failed, how fast.")
class QueueStats:
    queue: str
    ready: int = strawberry.field(description="Messages waiting for a worker.")
    delayed: int = strawberry.field(description="Retries and deferrals waiting for their time.")
    in_flight: int = strawberry.field(description="Fetched by a worker, not acknowledged yet.")
    failed: int = strawberry.field(description="Dead letters not replayed yet.")
    last_minute: QueueThroughput
    last_five_minutes: QueueThroughput

    @classmethod
    def from_view(cls, v: QueueStatsView) -> QueueStats:
        return cls(
            queue=v.queue,
            ready=v.ready,
            delayed=v.delayed,
            in_flight=v.in_flight,
            failed=v.failed,
            last_minute=QueueThroughput.of(v.last_minute, 1),
            last_five_minutes=QueueThroughput.of(v.last_five_minutes, 5),
        )


async def failed_jobs(
    info: Info[Context, None],
    filter: FailedJobFilter | None = UNSET,
    first: int | None = UNSET,
    after: str | None = UNSET,
) -> FailedJobConnection:
    where = to_where(filter)
    size = page_size(first, info.context.max_page_size)
    page = await info.context.queues.failed_jobs(where, size, after_of(after))
    edges = [
        FailedJobEdge(cursor=cursor(v.failed_at, v.id), node=FailedJob.from_view(v))
        for v in page.items
    ]
    return FailedJobConnection(edges=edges, page_info=page_info(edges, page.has_next), where=where)


async def queue_stats(info: Info[Context, None]) -> list[QueueStats]:
    return [QueueStats.from_view(v) for v in await info.context.queues.stats()]


@strawberry.type
class FailedJobReplayed:
    failed_job: FailedJob = strawberry.field(description="The dead letter, now with replayedAt.")


@strawberry.type(description="The dead letter was replayed already; it is not sent twice.")
class FailedJobAlreadyReplayed:
    message: str
    field: str | None
    failed_job: FailedJob


@strawberry.type(description="The dead letter's actor is no longer registered: no worker runs it.")
class UnknownJobActor:
    message: str
    field: str | None
    actor: str
    failed_job: FailedJob


ReplayFailedJobResult = Annotated[
    FailedJobReplayed | FailedJobAlreadyReplayed | UnknownJobActor,
    strawberry.union("ReplayFailedJobResult"),
]


@strawberry.type
class FailedJobsReplayed:
    count: int
    failed_jobs: list[FailedJob]
    unknown_actors: list[str] = strawberry.field(
        description="Actors of matching dead letters left unreplayed: no worker knows them."
    )
    has_more: bool = strawberry.field(description="More replayable dead letters match.")


async def replay_failed_job(info: Info[Context, None], id: strawberry.ID) -> ReplayFailedJobResult:
    ctx = info.context
    command = ReplayFailedJob(
        id=parse_id(str(id), "id"), actor=ctx.actor, correlation_id=ctx.correlation_id
    )
    outcome = await ctx.bus.handle(command)
    if isinstance(outcome, AlreadyReplayed):
        job = outcome.failed_job
        return FailedJobAlreadyReplayed(
            message=f"failed job {job.id} was replayed already, at {job.replayed_at}",
            field="id",
            failed_job=FailedJob.from_view(job),
        )
    if isinstance(outcome, ActorUnknown):
        job = outcome.failed_job
        return UnknownJobActor(
            message=f"actor {job.actor!r} is no longer registered; no worker would run the job",
            field="id",
            actor=job.actor,
            failed_job=FailedJob.from_view(job),
        )
    return FailedJobReplayed(failed_job=FailedJob.from_view(outcome.failed_job))


async def replay_failed_jobs(
    info: Info[Context, None],
    filter: FailedJobFilter | None = UNSET,
    limit: Annotated[
        int, strawberry.argument(description="At most this many, oldest first (1 to 1000).")
    ] = 100,
) -> FailedJobsReplayed:
    ctx = info.context
    command = ReplayFailedJobs(
        where=to_where(filter), limit=limit, actor=ctx.actor, correlation_id=ctx.correlation_id
    )
    outcome: JobsReplayed = await ctx.bus.handle(command)
    return FailedJobsReplayed(
        count=len(outcome.replayed),
        failed_jobs=[FailedJob.from_view(v) for v in outcome.replayed],
        unknown_actors=outcome.unknown_actors,
        has_more=outcome.has_more,
    )


@strawberry.type
class JobQuery:
    failed_jobs: FailedJobConnection = strawberry.field(
        resolver=failed_jobs,
        description="Dead letters, newest first.",
        extensions=requires(Permission.JOBS_READ),
    )
    queue_stats: list[QueueStats] = strawberry.field(
        resolver=queue_stats,
        description="Each queue: depth, delayed, in flight, dead letters, throughput.",
        extensions=requires(Permission.JOBS_READ),
    )


@strawberry.type
class JobMutation:
    replay_failed_job: ReplayFailedJobResult = strawberry.mutation(
        resolver=replay_failed_job,
        description="Send a dead letter again (once); the job goes out through the outbox.",
        extensions=requires(Permission.JOBS_WRITE),
    )
    replay_failed_jobs: FailedJobsReplayed = strawberry.mutation(
        resolver=replay_failed_jobs,
        description="Send the unreplayed dead letters matching the filter again.",
        extensions=requires(Permission.JOBS_WRITE),
    )
