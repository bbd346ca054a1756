"""Process logging: one JSON object per line on stdout, carrying the correlation id (and the job
id inside a job), so a log pipeline can join a request's lines with its jobs' lines."""

from __future__ import annotations

import logging
import sys
import time
from typing import Any

import orjson

from app.context import correlation_id, job_id

__all__ = ["CorrelationIdFilter", "JsonFormatter", "configure_logging", "correlation_id"]

# Attributes every LogRecord has: anything else on a record came from `extra=` and is logged.
_STANDARD = frozenset(vars(logging.makeLogRecord({}))) | {"message", "asctime", "taskName"}
_STAMPED = frozenset({"correlation_id", "job_id"})


class CorrelationIdFilter(logging.Filter):
    """Stamp `record.correlation_id` (and `job_id`) from the context unless the caller passed
    them in `extra`; done when the record is made, in the task that made it."""

    def filter(self, record: logging.LogRecord) -> bool:
        if getattr(record, "correlation_id", None) is None:
            record.correlation_id = correlation_id.get()
        if getattr(record, "job_id", None) is None:
            record.job_id = job_id.get()
        return True


def _default(value: object) -> str:
    return str(value)  # uuids, decimals, exceptions passed in `extra`


class JsonFormatter(logging.Formatter):
    """`{"ts", "level", "logger", "message", "correlation_id"[, "job_id"][, extras][, "exc"]}`."""

    def format(self, record: logging.LogRecord) -> str:
        ts = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created))
        line: dict[str, Any] = {
            "ts": f"{ts}.{int(record.msecs):03d}Z",
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "correlation_id": getattr(record, "correlation_id", None) or correlation_id.get(),
        }
        job = getattr(record, "job_id", None) or job_id.get()
        if job:
            line["job_id"] = job
        for key, value in vars(record).items():
            if key not in _STANDARD and key not in _STAMPED:
                line.setdefault(key, value)
        if record.exc_info:
            line["exc"] = self.formatException(record.exc_info)
        elif record.exc_text:
            line["exc"] = record.exc_text
        if record.stack_info:
            line["stack"] = record.stack_info
        return orjson.dumps(line, default=_default).decode()


def configure_logging(level: str | int = "INFO") -> None:
    """Send every logger's records to stdout as JSON lines; safe to call more than once."""
    root = logging.getLogger()
    for handler in list(root.handlers):
        if getattr(handler, "visapi", False):
            root.removeHandler(handler)
    handler = logging.StreamHandler(sys.stdout)
    handler.visapi = True  # type: ignore[attr-defined]
    handler.addFilter(CorrelationIdFilter())
    handler.setFormatter(JsonFormatter())
    root.addHandler(handler)
    root.setLevel(level.upper() if isinstance(level, str) else level)
    # httpx logs every request URL at INFO; CRM paths carry customers' phone numbers (PII).
    logging.getLogger("httpx").setLevel(logging.WARNING)
