"""`GET /api/v1/logs/export`: the logs a filter selects, as CSV or NDJSON, streamed in keyset
batches (one short query per 1000 rows, never the whole set in memory)."""

from __future__ import annotations

import csv
import io
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

import orjson
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse

from app.errors import InvalidInput
from app.logs.filters import checked
from app.logs.ports import LogFilter, LogLevel, LogView
from app.logs.queries import LogQueries
from domain.auth.permissions import Permission
from rest.gate import require
from rest.middleware import error_body

BATCH = 1000
FORMATS = {"csv": "text/csv; charset=utf-8", "ndjson": "application/x-ndjson"}
PARAMETERS = ("format", "level", "from", "to", "correlationId", "workflowId", "jobId", "text")
COLUMNS = (
    "id",
    "createdAt",
    "level",
    "message",
    "correlationId",
    "workflowId",
    "jobId",
    "piiRedacted",
    "metadata",
)
# A cell starting with one of these is a formula to a spreadsheet (CSV injection): prefix it.
_FORMULA = ("=", "+", "-", "@", "\t", "\r")


def _record(v: LogView) -> dict[str, Any]:
    return {
        "id": str(v.id),
        "createdAt": v.created_at.isoformat(),
        "level": v.level,
        "message": v.message,
        "correlationId": v.correlation_id,
        "workflowId": str(v.workflow_id) if v.workflow_id else None,
        "jobId": v.job_id,
        "piiRedacted": v.pii_redacted,
        "metadata": v.metadata,
    }


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict):
        return orjson.dumps(value).decode()
    text = str(value)
    return f"'{text}" if text.startswith(_FORMULA) else text


def _csv_lines(rows: list[dict[str, Any]], header: bool) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    if header:
        writer.writerow(COLUMNS)
    writer.writerows([_cell(row[c]) for c in COLUMNS] for row in rows)
    return buffer.getvalue().encode()


def _ndjson_lines(rows: list[dict[str, Any]]) -> bytes:
    return b"".join(orjson.dumps(row) + b"\n" for row in rows)


def _instant(raw: str, name: str) -> datetime:
    try:
        value = datetime.fromisoformat(raw.strip())
    except ValueError:
        message = f"{name}: {raw[:40]!r} is not an ISO 8601 datetime"
        raise InvalidInput(message, field=name) from None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def parse(query: Any) -> tuple[str, LogFilter]:
    """The format and filter of the query string, or InvalidInput naming the parameter."""
    for name in query:
        if name not in PARAMETERS:
            raise InvalidInput(f"{name}: unknown parameter", field=name)
    for name in PARAMETERS:
        if len(query.getlist(name)) > 1:
            raise InvalidInput(f"{name}: given more than once", field=name)
    fmt = query.get("format", "")
    if fmt not in FORMATS:
        raise InvalidInput("format: must be csv or ndjson", field="format")
    level = query.get("level")
    if level is not None and level.lower() not in {lv.value for lv in LogLevel}:
        raise InvalidInput("level: must be debug, info, warn or error", field="level")
    workflow = query.get("workflowId")
    try:
        workflow_id = UUID(workflow) if workflow is not None else None
    except ValueError:
        raise InvalidInput("workflowId: not a valid id", field="workflowId") from None
    f = LogFilter(
        level=LogLevel(level.lower()) if level is not None else None,
        workflow_id=workflow_id,
        job_id=query.get("jobId"),
        correlation_id=query.get("correlationId"),
        from_=_instant(query["from"], "from") if "from" in query else None,
        to=_instant(query["to"], "to") if "to" in query else None,
        text=query.get("text"),
    )
    return fmt, checked(f)


def export_route(logs: LogQueries) -> Callable[[Request], Any]:
    async def export(request: Request) -> Response:
        refused = require(request, Permission.LOGS_READ)
        if refused is not None:
            return refused
        try:
            fmt, wanted = parse(request.query_params)
        except InvalidInput as exc:
            body = error_body(exc.message, "INVALID_INPUT", field=exc.field)
            return Response(body, 400, media_type="application/json; charset=utf-8")
        reads = logs

        async def lines() -> AsyncIterator[bytes]:
            # A failure mid-stream cuts the download short (the status is already sent): the
            # client sees a truncated file, the server log the error with the correlation id.
            if fmt == "csv":
                yield _csv_lines([], header=True)
            async for batch in reads.batches(wanted, BATCH):
                rows = [_record(v) for v in batch]
                yield _csv_lines(rows, header=False) if fmt == "csv" else _ndjson_lines(rows)

        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
        disposition = f'attachment; filename="logs-{stamp}.{fmt}"'
        return StreamingResponse(
            lines(),
            media_type=FORMATS[fmt],
            headers={"content-disposition": disposition, "cache-control": "no-store"},
        )

    return export
