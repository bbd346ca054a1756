"""Subscriptions: orderEvents, queueStats, workflowRun and logs, pushed as changes commit.

Each subscription listens to one topic of the process's hub (app.live) through a bounded
buffer, and reads what it shows through the read handlers, under the caller's permissions, like
the query it mirrors. What a notice names is read once per process and notice, not once per
subscriber (graph.subscribers), and from the database rather than the read cache: a notice can
arrive before the write's cache eviction has. Every subscription counts against the caller's
cap in this process and in /metrics while it runs.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, Awaitable, Callable
from datetime import datetime
from enum import Enum
from functools import partial
from typing import Annotated, Any, TypeVar
from uuid import UUID

import strawberry
from strawberry.types import Info

from app.live import Dropped, Topic
from app.live import OrderEventType as Kind
from app.logs.live import line_of, matches
from app.orders.views import OrderView
from domain.auth.permissions import Permission, Principal
from domain.orders.bulk import BulkStatus
from domain.workflows.runs import RunStatus
from graph.arguments import given, parse_id
from graph.bulk import BulkOperation
from graph.bulk import Id as BulkId
from graph.context import Context
from graph.errors import CodedError
from graph.jobs import QueueStats
from graph.live_socket import drop_slow
from graph.logs import LogEntry, LogFilter, to_filter
from graph.order_filters import OrderFilter, to_spec
from graph.permissions import Requires
from graph.subscribers import Subscribers
from graph.types import Order
from graph.workflow_runs import RunId, WorkflowRunType

SLOW_CONSUMER = "SLOW_CONSUMER"
_FINAL_RUN = frozenset({RunStatus.SUCCEEDED, RunStatus.FAILED, RunStatus.CANCELED})


class LiveRequires(Requires):
    """`Requires` for a subscription field: checked when the subscription starts (a caller
    lacking it gets the FORBIDDEN error and no stream), then the stream itself is returned."""

    async def resolve_async(
        self, next_: Any, source: Any, info: Info[Any, Any], **kwargs: Any
    ) -> Any:
        self.check(info, kwargs)
        return next_(source, info, **kwargs)


def live_requires(permission: Permission) -> list[Any]:
    return [LiveRequires(permission)]


@strawberry.enum(description="What happened to an order.")
class OrderEventType(Enum):
    CREATED = strawberry.enum_value(Kind.CREATED.value, description="The order was taken in.")
    PROCESSED = strawberry.enum_value(
        Kind.PROCESSED.value, description="It was marked processed (markOrdersProcessed)."
    )
    CONTACT_SYNCED = strawberry.enum_value(
        Kind.CONTACT_SYNCED.value, description="Its customer's contact reached the CRM."
    )
    CONTACT_SYNC_FAILED = strawberry.enum_value(
        Kind.CONTACT_SYNC_FAILED.value,
        description="An attempt to sync its contact failed (it may be retried).",
    )
    CONFIRMATION_QUEUED = strawberry.enum_value(
        Kind.CONFIRMATION_QUEUED.value, description="Its WhatsApp confirmation was queued."
    )
    CONFIRMATION_SENT = strawberry.enum_value(
        Kind.CONFIRMATION_SENT.value, description="The vendor accepted the confirmation."
    )
    CONFIRMATION_DELIVERED = strawberry.enum_value(
        Kind.CONFIRMATION_DELIVERED.value, description="Meta reports it delivered."
    )
    CONFIRMATION_READ = strawberry.enum_value(
        Kind.CONFIRMATION_READ.value, description="Meta reports it read."
    )
    CONFIRMATION_FAILED = strawberry.enum_value(
        Kind.CONFIRMATION_FAILED.value, description="It failed for good, with a reason."
    )


@strawberry.type(description="One change of an order, pushed after it committed.")
class OrderEvent:
    type: OrderEventType = strawberry.field(description="What happened.")
    occurred_at: datetime = strawberry.field(description="When it happened.")
    order: Order | None = strawberry.field(
        description="The order as it is now, its personal fields under their permissions; null"
        " when it no longer exists."
    )


def _caller(info: Info[Context, None]) -> tuple[Context, Subscribers, Principal]:
    ctx = info.context
    live = ctx.live
    if live is None or ctx.principal is None:
        raise CodedError("Subscriptions need a WebSocket or SSE connection.", "INVALID_INPUT")
    return ctx, live, ctx.principal


async def order_events(
    info: Info[Context, None],
    filter: Annotated[
        OrderFilter | None,
        strawberry.argument(description="Only events of orders matching it; all when omitted."),
    ] = strawberry.UNSET,
) -> AsyncGenerator[OrderEvent | None, None]:
    ctx, live, principal = _caller(info)
    spec = to_spec(filter) if given(filter) else None
    read = ctx.orders.reads.by_ids

    async def one(id: UUID) -> OrderView | None:
        views = await read([id])
        return views[0] if views else None

    listener = live.hub.listen(Topic.ORDERS)
    live.enter(principal, "orderEvents")
    try:
        async for notice in listener:
            view = await live.order(notice, one)
            if spec is not None and (view is None or not spec.is_satisfied_by(view)):
                continue
            ctx.fresh_loaders()  # children (events, notifications) as they are now
            yield OrderEvent(
                type=OrderEventType(notice.kind),
                occurred_at=notice.at,
                order=Order.from_view(view) if view is not None else None,
            )
    except Dropped as slow:
        drop_slow(ctx, str(slow))
        raise CodedError(str(slow), SLOW_CONSUMER) from None
    finally:
        listener.close()
        live.leave(principal, "orderEvents")


async def queue_stats(info: Info[Context, None]) -> AsyncGenerator[list[QueueStats] | None, None]:
    ctx, live, principal = _caller(info)
    watch = live.queues(ctx.queues.stats)
    live.enter(principal, "queueStats")
    try:
        async for figures in watch.watch():
            yield [QueueStats.from_view(v) for v in figures]
    finally:
        live.leave(principal, "queueStats")


T = TypeVar("T")


async def _follow(
    live: Subscribers,
    topic: Topic,
    subject: UUID,
    read: Callable[[], Awaitable[T | None]],
    ended: Callable[[T], bool],
    missing: str,
) -> AsyncGenerator[T, None]:
    """One thing (a run, a bulk operation) now, then again whenever a notice names it and it
    changed, until `ended`; NOT_FOUND (`missing`) when there is none."""
    listener = live.hub.listen(topic)  # before the first read: nothing falls between
    try:
        current = await read()
        if current is None:
            raise CodedError(missing, "NOT_FOUND", field="id")
        yield current
        while not ended(current):
            try:
                async for notice in listener:
                    if notice.subject == str(subject):
                        break
                else:
                    return
            except Dropped:
                # Notices of other runs or operations filled the buffer: read this one again.
                listener.close()
                listener = live.hub.listen(topic)
            found = await read()
            if found is None:
                return
            if found != current:
                yield found
            current = found
    finally:
        listener.close()


async def workflow_run(
    info: Info[Context, None], id: RunId
) -> AsyncGenerator[WorkflowRunType | None, None]:
    ctx, live, principal = _caller(info)
    run_id = parse_id(str(id), "id")
    live.enter(principal, "workflowRun")
    try:
        async for run in _follow(
            live,
            Topic.RUNS,
            run_id,
            partial(ctx.workflows.run, run_id),
            lambda run: run.status in _FINAL_RUN,
            f"no workflow run {run_id}",
        ):
            yield WorkflowRunType.of(run)
    finally:
        live.leave(principal, "workflowRun")


async def logs(
    info: Info[Context, None],
    filter: Annotated[
        LogFilter | None,
        strawberry.argument(description="Only new entries matching it; all when omitted."),
    ] = strawberry.UNSET,
) -> AsyncGenerator[LogEntry | None, None]:
    _, live, principal = _caller(info)
    wanted = to_filter(filter)
    listener = live.hub.listen(Topic.LOGS)
    live.enter(principal, "logs")
    try:
        async for notice in listener:
            line = line_of(notice)
            if matches(wanted, line):
                yield LogEntry.from_view(line)
    except Dropped as slow:
        drop_slow(info.context, str(slow))
        raise CodedError(str(slow), SLOW_CONSUMER) from None
    finally:
        listener.close()
        live.leave(principal, "logs")


async def bulk_operation(
    info: Info[Context, None], id: BulkId
) -> AsyncGenerator[BulkOperation | None, None]:
    ctx, live, principal = _caller(info)
    operation_id = parse_id(str(id), "id")
    live.enter(principal, "bulkOperation")
    try:
        async for op in _follow(
            live,
            Topic.BULK,
            operation_id,
            partial(ctx.services.bulk.operation, operation_id),
            lambda op: op.status is not BulkStatus.RUNNING,
            f"no bulk operation {operation_id}",
        ):
            yield BulkOperation.of(op)
    finally:
        live.leave(principal, "bulkOperation")


@strawberry.type(
    description="Live data over WebSocket (graphql-transport-ws) or Server-Sent Events"
    " (graphql-sse). Each field names the permission it needs; events are delivered at most"
    " once, in the order they committed, from when the subscription starts."
)
class Subscription:
    order_events = strawberry.subscription(
        resolver=order_events,
        description="Orders taken in, processed, synced and confirmed, as they happen.",
        extensions=live_requires(Permission.ORDERS_READ),
    )
    queue_stats = strawberry.subscription(
        resolver=queue_stats,
        description="Each queue's figures, pushed when one changes (at most once a second).",
        extensions=live_requires(Permission.JOBS_READ),
    )
    workflow_run = strawberry.subscription(
        resolver=workflow_run,
        description="The run now, then again after each step; the stream ends with the run.",
        extensions=live_requires(Permission.WORKFLOWS_READ),
    )
    bulk_operation = strawberry.subscription(
        resolver=bulk_operation,
        description="The bulk operation now, then after each batch; the stream ends with it.",
        extensions=live_requires(Permission.ORDERS_READ),
    )
    logs = strawberry.subscription(
        resolver=logs,
        description="New business log entries (redacted, as stored), oldest first.",
        extensions=live_requires(Permission.LOGS_READ),
    )
