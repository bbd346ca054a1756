"""New log lines for subscribers: the stored line a notice carries, and the filter's test of it
(the same conditions the SQL read applies, evaluated in memory)."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from app.live import Notice
from app.logs.ports import LogFilter, LogView


def line_of(notice: Notice) -> LogView:
    """The line as stored (redacted), from infrastructure.db.logs.log_notice's data."""
    d = notice.data
    return LogView(
        id=UUID(d["id"]),
        level=d["level"],
        message=d["message"],
        metadata=d["metadata"],
        correlation_id=d["correlation_id"],
        workflow_id=UUID(d["workflow_id"]) if d["workflow_id"] else None,
        job_id=d["job_id"],
        pii_redacted=d["pii_redacted"],
        created_at=datetime.fromisoformat(d["created_at"]),
    )


def matches(f: LogFilter, line: LogView) -> bool:
    return (
        (f.level is None or line.level == f.level.value)
        and (f.workflow_id is None or line.workflow_id == f.workflow_id)
        and (f.job_id is None or line.job_id == f.job_id)
        and (f.correlation_id is None or line.correlation_id == f.correlation_id)
        and (f.from_ is None or line.created_at >= f.from_)
        and (f.to is None or line.created_at < f.to)
        and (f.text is None or f.text.casefold() in line.message.casefold())
    )
