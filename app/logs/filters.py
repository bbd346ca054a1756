"""Checks of a log filter, shared by GraphQL and the export: each names the argument at fault."""

from __future__ import annotations

import re

from app.errors import InvalidInput
from app.logs.ports import LogFilter

MAX_TEXT = 200
MAX_JOB_ID = 128
MAX_CORRELATION_ID = 64
_SANE_ID = re.compile(r"[A-Za-z0-9._:-]+")


def _id(value: str | None, name: str, longest: int) -> str | None:
    if value is None:
        return None
    text = value.strip()
    if not text or len(text) > longest or not _SANE_ID.fullmatch(text):
        raise InvalidInput(f"{name} must be 1 to {longest} letters, digits or . _ : -", field=name)
    return text


def checked(f: LogFilter, *, names: dict[str, str] | None = None) -> LogFilter:
    """`f` with ids trimmed, or InvalidInput naming the field (by its name in `names`)."""
    name = {
        "text": "text",
        "job_id": "jobId",
        "correlation_id": "correlationId",
        "to": "to",
        **(names or {}),
    }
    text = f.text
    if text is not None:
        if not text.strip():
            raise InvalidInput(f"{name['text']} must not be blank", field=name["text"])
        if len(text) > MAX_TEXT:
            raise InvalidInput(
                f"{name['text']} must be at most {MAX_TEXT} characters", field=name["text"]
            )
    if f.from_ is not None and f.to is not None and f.from_ >= f.to:
        raise InvalidInput(f"{name['to']} must be later than from", field=name["to"])
    return LogFilter(
        level=f.level,
        workflow_id=f.workflow_id,
        job_id=_id(f.job_id, name["job_id"], MAX_JOB_ID),
        correlation_id=_id(f.correlation_id, name["correlation_id"], MAX_CORRELATION_ID),
        from_=f.from_,
        to=f.to,
        text=text,
    )
