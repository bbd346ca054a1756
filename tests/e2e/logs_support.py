"""Shared by the log tests: rows written as the adapter writes them, and GraphQL calls."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import delete, insert

from app.logs.ports import LogLevel
from infrastructure.db.logs import log_row
from infrastructure.db.tables import logs
from visapi.bootstrap import Container

NOW = datetime.now(UTC).replace(microsecond=0)
WORKFLOW = uuid.UUID(int=77)


def entry(minutes_ago: float, message: str, level: LogLevel = LogLevel.INFO, **kw: Any) -> Any:
    metadata = kw.pop("metadata", {"n": minutes_ago})
    at = kw.pop("at", NOW - timedelta(minutes=minutes_ago))
    return log_row(level, message, metadata, at=at, correlation_id=kw.pop("cid", None), **kw)


async def seed(container: Container, rows: list[dict[str, Any]], *, fresh: bool = True) -> None:
    """These log lines; `fresh`: only these (what setup wrote, a key's creation line, goes)."""
    async with container.engine.begin() as conn:
        if fresh:
            await conn.execute(delete(logs))
        for start in range(0, len(rows), 1000):
            await conn.execute(insert(logs), rows[start : start + 1000])


SAMPLE = [
    entry(1, "Contact sync FAILED for IL250819GB16", LogLevel.ERROR, cid="c-9", job_id="j-1"),
    entry(2, "contact synced", cid="c-9", job_id="j-1"),
    entry(3, "workflow step retried", LogLevel.WARN, workflow_id=WORKFLOW),
    entry(4, "order from avi@example.com", metadata={"phone": "0541112233"}),
    entry(60 * 30, "an old error", LogLevel.ERROR),
]
