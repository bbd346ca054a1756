"""Business logs in GraphQL: `logs` (filtered, newest first, cursor pages) and `logStats`."""

from __future__ import annotations

from datetime import UTC, datetime
from enum import Enum

import strawberry
from strawberry import UNSET
from strawberry.scalars import JSON
from strawberry.types import Info

from app.logs.filters import checked
from app.logs.ports import LogFilter as Filter
from app.logs.ports import LogLevel as Level
from app.logs.ports import LogView
from domain.auth.permissions import Permission
from graph.arguments import given, parse_id
from graph.context import Context
from graph.pagination import PageInfo, after_of, cursor, page_info, page_size
from graph.permissions import requires
from graph.scalars import as_utc

# GraphQL names of the filter's fields, for INVALID_INPUT errors.
_NAMES = {
    "text": "filter.text",
    "job_id": "filter.jobId",
    "correlation_id": "filter.correlationId",
    "to": "filter.to",
}


@strawberry.enum
class LogLevel(Enum):
    DEBUG = "debug"
    INFO = "info"
    WARN = "warn"
    ERROR = "error"


@strawberry.type(description="One business log entry, PII redacted before it was stored.")
class LogEntry:
    id: strawberry.ID
    level: LogLevel
    message: str
    metadata: JSON
    correlation_id: str | None
    workflow_id: strawberry.ID | None
    job_id: str | None
    pii_redacted: bool = strawberry.field(description="Something was redacted from it.")
    created_at: datetime

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
    level: LogLevel | None = UNSET
    workflow_id: strawberry.ID | None = UNSET
    job_id: str | None = UNSET
    correlation_id: str | None = UNSET
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
        level=Level(level.value) if isinstance(level, LogLevel) else None,
        workflow_id=parse_id(str(workflow), "filter.workflowId") if workflow else None,
        job_id=f.job_id if given(f.job_id) else None,
        correlation_id=f.correlation_id if given(f.correlation_id) else None,
        from_=as_utc(since) if isinstance(since, datetime) else None,
        to=as_utc(until) if isinstance(until, datetime) else None,
        text=f.text if given(f.text) else None,
    )
    return checked(raw, names=_NAMES)


@strawberry.type
class LogEdge:
    cursor: str
    node: LogEntry


@strawberry.type
class LogConnection:
    edges: list[LogEdge]
    page_info: PageInfo
    filter: strawberry.Private[Filter]

    @strawberry.field
    async def total_count(self, info: Info[Context, None]) -> int:
        """Entries matching the filter: counts them, so ask only when shown."""
        return await info.context.logs.count(self.filter)


@strawberry.type
class LevelCount:
    level: LogLevel
    count: int


@strawberry.type(description="Counts over every stored log.")
class LogStats:
    total: int
    by_level: list[LevelCount]
    with_pii: int = strawberry.field(description="Entries something was redacted from.")
    last_24h: int = strawberry.field(name="last24h", description="Entries of the last 24 hours.")


async def logs(
    info: Info[Context, None],
    filter: LogFilter | None = UNSET,
    first: int | None = UNSET,
    after: str | None = UNSET,
) -> LogConnection:
    size = page_size(first, info.context.max_page_size)
    wanted = to_filter(filter)
    page = await info.context.logs.page(wanted, size, after_of(after))
    edges = [
        LogEdge(cursor=cursor(v.created_at, v.id), node=LogEntry.from_view(v)) for v in page.items
    ]
    return LogConnection(edges=edges, page_info=page_info(edges, page.has_next), filter=wanted)


async def log_stats(info: Info[Context, None]) -> LogStats:
    stats = await info.context.logs.stats(datetime.now(UTC))
    known = [level for level in LogLevel if level.value in stats.by_level]
    return LogStats(
        total=stats.total,
        by_level=[LevelCount(level=lv, count=stats.by_level[lv.value]) for lv in known],
        with_pii=stats.with_pii,
        last_24h=stats.last_24h,
    )


@strawberry.type
class LogQuery:
    logs: LogConnection = strawberry.field(
        resolver=logs,
        description="Business logs, newest first.",
        extensions=requires(Permission.LOGS_READ),
    )
    log_stats: LogStats = strawberry.field(
        resolver=log_stats,
        description="Totals by level, with PII, and of the last 24 hours.",
        extensions=requires(Permission.LOGS_READ),
    )
