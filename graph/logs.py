"""Business logs in GraphQL: `logs` (filtered, newest first, cursor pages) and `logStats`."""

from __future__ import annotations

from datetime import UTC, datetime
from enum import Enum
from typing import Annotated

import strawberry
from strawberry import UNSET
from strawberry.scalars import JSON
from strawberry.types import Info

from app.logs.filters import checked
from app.logs.ports import LogFilter as Filter
from app.logs.ports import LogLevel as Level
from app.logs.ports import LogView
from domain.auth.permissions import Permission
from graph.arguments import given, parse_id, value_of
from graph.context import Context
from graph.pagination import AfterCursor, First, PageInfo, after_of, cursor, page_info, page_size
from graph.permissions import requires
from graph.scalars import as_utc

# GraphQL names of the filter's fields, for INVALID_INPUT errors.
_NAMES = {
    "text": "filter.text",
    "job_id": "filter.jobId",
    "correlation_id": "filter.correlationId",
    "to": "filter.to",
}


@strawberry.enum(description="A business log entry's severity, lowest first.")
class LogLevel(Enum):
    DEBUG = strawberry.enum_value("debug", description="Detail for tracing a run or a job.")
    INFO = strawberry.enum_value("info", description="Something happened as it should.")
    WARN = strawberry.enum_value("warn", description="Something went wrong and was handled.")
    ERROR = strawberry.enum_value("error", description="Something failed and needs a look.")


@strawberry.type(description="One business log entry, PII redacted before it was stored.")
class LogEntry:
    id: strawberry.ID = strawberry.field(description="The entry's id (a uuid).")
    level: LogLevel = strawberry.field(description="How severe it is.")
    message: str = strawberry.field(description="What happened, redacted.")
    metadata: JSON = strawberry.field(description="Details as an object, redacted; `{}` if none.")
    correlation_id: str | None = strawberry.field(
        description="The request's correlation id (X-Correlation-Id); null outside a request."
    )
    workflow_id: strawberry.ID | None = strawberry.field(
        description="The workflow it is about (Workflow.id); null when none."
    )
    job_id: str | None = strawberry.field(
        description="The job that wrote it (FailedJob.messageId); null outside a job."
    )
    pii_redacted: bool = strawberry.field(description="Something was redacted from it.")
    created_at: datetime = strawberry.field(description="When it was written (UTC).")

    @classmethod
    def from_view(cls, v: LogView) -> LogEntry:
        return cls(
            id=strawberry.ID(str(v.id)),
            level=LogLevel(v.level),
            message=v.message,
            metadata=JSON(v.metadata),
            correlation_id=v.correlation_id,
            workflow_id=strawberry.ID(str(v.workflow_id)) if v.workflow_id else None,
            job_id=v.job_id,
            pii_redacted=v.pii_redacted,
            created_at=v.created_at,
        )


@strawberry.input(description="Conditions on logs; all given conditions must hold (AND).")
class LogFilter:
    level: LogLevel | None = strawberry.field(
        default=UNSET, description="Only entries of this level (not the levels above it)."
    )
    workflow_id: strawberry.ID | None = strawberry.field(
        default=UNSET, description="Only entries about this workflow."
    )
    job_id: str | None = strawberry.field(default=UNSET, description="Only entries of this job.")
    correlation_id: str | None = strawberry.field(
        default=UNSET, description="Only entries of this request (its X-Correlation-Id)."
    )
    from_: datetime | None = strawberry.field(
        name="from", default=UNSET, description="Created at or after this instant (inclusive)."
    )
    to: datetime | None = strawberry.field(
        default=UNSET, description="Created before this instant (exclusive)."
    )
    text: str | None = strawberry.field(
        default=UNSET, description="Case-insensitive substring of the message (1-200 chars)."
    )


def to_filter(f: LogFilter | None) -> Filter:
    if f is None or not given(f):
        return Filter()

    def value(raw: object) -> object:
        return raw if given(raw) else None

    level, since, until = value(f.level), value(f.from_), value(f.to)
    workflow = value(f.workflow_id)
    raw = Filter(
        level=Level(value_of(level)) if isinstance(level, LogLevel) else None,
        workflow_id=parse_id(str(workflow), "filter.workflowId") if workflow else None,
        job_id=f.job_id if given(f.job_id) else None,
        correlation_id=f.correlation_id if given(f.correlation_id) else None,
        from_=as_utc(since) if isinstance(since, datetime) else None,
        to=as_utc(until) if isinstance(until, datetime) else None,
        text=f.text if given(f.text) else None,
    )
    return checked(raw, names=_NAMES)


@strawberry.type(description="One log entry of a page, with its position.")
class LogEdge:
    cursor: str = strawberry.field(description="Opaque position: pass it as `after`.")
    node: LogEntry = strawberry.field(description="The entry.")


@strawberry.type(description="A page of log entries matching a filter, newest first.")
class LogConnection:
    edges: list[LogEdge] = strawberry.field(description="This page's entries, newest first.")
    page_info: PageInfo = strawberry.field(description="Where this page sits; how to go on.")
    filter: strawberry.Private[Filter]

    async def _total_count(self, info: Info[Context, None]) -> int:
        return await info.context.logs.count(self.filter)

    total_count: int = strawberry.field(
        resolver=_total_count,
        description="Entries matching the filter, all pages together: a count in the database"
        " each time, so select it only when shown.",
    )


@strawberry.type(description="Entries of one level.")
class LevelCount:
    level: LogLevel = strawberry.field(description="The level.")
    count: int = strawberry.field(description="Stored entries of that level.")


@strawberry.type(description="Counts over every stored log.")
class LogStats:
    total: int = strawberry.field(description="Every stored entry (older ones are purged).")
    by_level: list[LevelCount] = strawberry.field(
        description="The total per level, lowest level first; levels without entries left out."
    )
    with_pii: int = strawberry.field(description="Entries something was redacted from.")
    last_24h: int = strawberry.field(name="last24h", description="Entries of the last 24 hours.")


async def logs(
    info: Info[Context, None],
    filter: Annotated[
        LogFilter | None,
        strawberry.argument(description="Only entries matching it; all when omitted."),
    ] = UNSET,
    first: First = UNSET,
    after: AfterCursor = UNSET,
) -> LogConnection:
    size = page_size(first, info.context.max_page_size)
    wanted = to_filter(filter)
    page = await info.context.logs.page(wanted, size, after_of(after))
    edges = [
        LogEdge(cursor=cursor(v.created_at, v.id), node=LogEntry.from_view(v)) for v in page.items
    ]
    return LogConnection(
        edges=edges, page_info=page_info(edges, page.has_next, after), filter=wanted
    )


async def log_stats(info: Info[Context, None]) -> LogStats:
    stats = await info.context.logs.stats(datetime.now(UTC))
    known = [level for level in LogLevel if value_of(level) in stats.by_level]
    return LogStats(
        total=stats.total,
        by_level=[LevelCount(level=lv, count=stats.by_level[value_of(lv)]) for lv in known],
        with_pii=stats.with_pii,
        last_24h=stats.last_24h,
    )


@strawberry.type
class LogQuery:
    logs: LogConnection | None = strawberry.field(
        resolver=logs,
        description="Business logs, newest first.",
        extensions=requires(Permission.LOGS_READ),
    )
    log_stats: LogStats | None = strawberry.field(
        resolver=log_stats,
        description="Totals by level, with PII, and of the last 24 hours.",
        extensions=requires(Permission.LOGS_READ),
    )
