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
from graph.pagination import AfterCursor, First, PageInfo, after_of, cursor, page_info, page_size
from graph.permissions import requires
from graph.scalars import as_utc

QUEUE_NAMES = tuple(q.value for q in Queue)


@strawberry.type(description="A job that failed for good (retries exhausted or a permanent error).")
class FailedJob:
    id: strawberry.ID = strawberry.field(description="The dead letter's id (a uuid).")
    message_id: str | None = strawberry.field(
        description="The broker's message id (the `job_id` of its log lines); null when unknown."
    )
    queue: str = strawberry.field(description="The queue it ran on: critical, default or bulk.")
    actor: str = strawberry.field(description="The job's name, e.g. `sync_contact`.")
    # A job's arguments and errors carry a customer's fields.
    arguments: JSON | None = strawberry.field(
        description="The job's arguments (ids); null when refused.",
        extensions=requires(Permission.ORDERS_READ),
    )
    error: str | None = strawberry.field(
        description="The last error: its type and message.",
        extensions=requires(Permission.ORDERS_READ),
    )
    attempts: int = strawberry.field(
        description="Attempts that raised before it was given up (retries and deferrals)."
    )
    failed_at: datetime = strawberry.field(description="When it was given up (UTC).")
    replayed_at: datetime | None = strawberry.field(
        description="When it was sent again (UTC); null while it was not. Replayed once at most."
    )

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
    actor: str | None = strawberry.field(default=UNSET, description="Only this job's name.")
    replayed: bool | None = strawberry.field(
        default=UNSET, description="true: only replayed ones; false: only ones not replayed yet."
    )
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


@strawberry.type(description="One dead letter of a page, with its position.")
class FailedJobEdge:
    cursor: str = strawberry.field(description="Opaque position: pass it as `after`.")
    node: FailedJob = strawberry.field(description="The dead letter.")


@strawberry.type(description="A page of dead letters matching a filter, newest first.")
class FailedJobConnection:
    edges: list[FailedJobEdge] = strawberry.field(
        description="This page's dead letters, newest first."
    )
    page_info: PageInfo = strawberry.field(description="Where this page sits; how to go on.")
    where: strawberry.Private[Where]

    async def _total_count(self, info: Info[Context, None]) -> int:
        return await info.context.queues.count_failed_jobs(self.where)

    total_count: int = strawberry.field(
        resolver=_total_count, description="Dead letters matching the filter, all pages together."
    )


@strawberry.type(description="Deliveries finished in a window, and the rates per minute.")
class QueueThroughput:
    processed: int = strawberry.field(description="Succeeded.")
    retried: int = strawberry.field(description="Failed and scheduled to run again.")
    failed: int = strawberry.field(description="Failed for good (now dead letters).")
    processed_per_minute: float = strawberry.field(
        description="`processed` over the window's minutes."
    )
    failed_per_minute: float = strawberry.field(description="`failed` over the window's minutes.")

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
    queue: str = strawberry.field(description="critical, default or bulk.")
    ready: int = strawberry.field(description="Messages waiting for a worker.")
    delayed: int = strawberry.field(description="Retries and deferrals waiting for their time.")
    in_flight: int = strawberry.field(description="Fetched by a worker, not acknowledged yet.")
    failed: int = strawberry.field(description="Dead letters not replayed yet.")
    last_minute: QueueThroughput = strawberry.field(description="Deliveries of the last minute.")
    last_five_minutes: QueueThroughput = strawberry.field(
        description="Deliveries of the last five minutes."
    )

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
    filter: Annotated[
        FailedJobFilter | None,
        strawberry.argument(description="Only dead letters matching it; all when omitted."),
    ] = UNSET,
    first: First = UNSET,
    after: AfterCursor = UNSET,
) -> FailedJobConnection:
    where = to_where(filter)
    size = page_size(first, info.context.max_page_size)
    page = await info.context.queues.failed_jobs(where, size, after_of(after))
    edges = [
        FailedJobEdge(cursor=cursor(v.failed_at, v.id), node=FailedJob.from_view(v))
        for v in page.items
    ]
    return FailedJobConnection(
        edges=edges, page_info=page_info(edges, page.has_next, after), where=where
    )


async def queue_stats(info: Info[Context, None]) -> list[QueueStats]:
    return [QueueStats.from_view(v) for v in await info.context.queues.stats()]


@strawberry.type(description="The dead letter's job is queued again (through the outbox).")
class FailedJobReplayed:
    failed_job: FailedJob = strawberry.field(description="The dead letter, now with replayedAt.")


@strawberry.type(description="The dead letter was replayed already; it is not sent twice.")
class FailedJobAlreadyReplayed:
    message: str = strawberry.field(description="What happened, in words, with when.")
    field: str | None = strawberry.field(description="`id`: the argument at fault.")
    failed_job: FailedJob = strawberry.field(description="The dead letter, with its replayedAt.")


@strawberry.type(description="The dead letter's actor is no longer registered: no worker runs it.")
class UnknownJobActor:
    message: str = strawberry.field(description="What is wrong, in words.")
    field: str | None = strawberry.field(description="`id`: the argument at fault.")
    actor: str = strawberry.field(description="The job name no worker knows any more.")
    failed_job: FailedJob = strawberry.field(description="The dead letter, left unreplayed.")


ReplayFailedJobResult = Annotated[
    FailedJobReplayed | FailedJobAlreadyReplayed | UnknownJobActor,
    strawberry.union(
        "ReplayFailedJobResult",
        description="Replayed (FailedJobReplayed), or refused: replayed before"
        " (FailedJobAlreadyReplayed) or its job no longer exists (UnknownJobActor).",
    ),
]


@strawberry.type(description="What replayFailedJobs sent again.")
class FailedJobsReplayed:
    count: int = strawberry.field(description="Dead letters replayed by this call.")
    failed_jobs: list[FailedJob] = strawberry.field(
        description="Those dead letters, oldest first, now with replayedAt."
    )
    unknown_actors: list[str] = strawberry.field(
        description="Actors of matching dead letters left unreplayed: no worker knows them."
    )
    has_more: bool = strawberry.field(description="More replayable dead letters match.")


async def replay_failed_job(
    info: Info[Context, None],
    id: Annotated[strawberry.ID, strawberry.argument(description="The dead letter's id.")],
) -> ReplayFailedJobResult:
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
    filter: Annotated[
        FailedJobFilter | None,
        strawberry.argument(
            description="Which unreplayed dead letters; all when omitted. `replayed: true` is"
            " refused: a dead letter is replayed once."
        ),
    ] = UNSET,
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
    failed_jobs: FailedJobConnection | None = strawberry.field(
        resolver=failed_jobs,
        description="Dead letters, newest first.",
        extensions=requires(Permission.JOBS_READ),
    )
    queue_stats: list[QueueStats] | None = strawberry.field(
        resolver=queue_stats,
        description="Each queue: depth, delayed, in flight, dead letters, throughput.",
        extensions=requires(Permission.JOBS_READ),
    )


@strawberry.type
class JobMutation:
    replay_failed_job: ReplayFailedJobResult | None = strawberry.mutation(
        resolver=replay_failed_job,
        description="Send a dead letter again (once); the job goes out through the outbox.",
        extensions=requires(Permission.JOBS_WRITE),
    )
    replay_failed_jobs: FailedJobsReplayed | None = strawberry.mutation(
        resolver=replay_failed_jobs,
        description="Send the unreplayed dead letters matching the filter again.",
        extensions=requires(Permission.JOBS_WRITE),
    )
