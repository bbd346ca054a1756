"""Process logging: one key=value line per record, carrying the request's correlation id."""

from __future__ import annotations

import json
import logging
import re
import sys
from contextvars import ContextVar
from datetime import UTC, datetime

# Set by the correlation-id middleware for the duration of a request (and copied into the tasks
# the request starts); "-" outside requests.
correlation_id: ContextVar[str | None] = ContextVar("visapi_correlation_id", default=None)

_BARE = re.compile(r"[^\s\"=\\]+")


def _value(text: str) -> str:
    """A value as is when it is one bare word, else JSON-quoted (newlines escaped: one line)."""
    if _BARE.fullmatch(text):
        return text
    return json.dumps(text, ensure_ascii=False)


class CorrelationIdFilter(logging.Filter):
    """Stamp `record.correlation_id` from the context unless the caller passed one in `extra`."""

    def filter(self, record: logging.LogRecord) -> bool:
        if getattr(record, "correlation_id", None) is None:
            record.correlation_id = correlation_id.get() or "-"
        return True


class KeyValueFormatter(logging.Formatter):
    """`ts=... level=... logger=... cid=... msg="..." [exc="..."]` on a single line."""

    def format(self, record: logging.LogRecord) -> str:
        ts = datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds")
        cid = getattr(record, "correlation_id", None) or correlation_id.get() or "-"
        parts = [
            f"ts={ts.replace('+00:00', 'Z')}",
            f"level={record.levelname}",
            f"logger={_value(record.name)}",
            f"cid={_value(str(cid))}",
            f"msg={_value(record.getMessage())}",
        ]
        if record.exc_info:
            parts.append(f"exc={_value(self.formatException(record.exc_info))}")
        elif record.exc_text:
            parts.append(f"exc={_value(record.exc_text)}")
        if record.stack_info:
            parts.append(f"stack={_value(record.stack_info)}")
        return " ".join(parts)


def configure_logging(level: str | int = "INFO") -> None:
    """Send every logger's records to stderr as key=value lines; safe to call more than once."""
    root = logging.getLogger()
    for handler in list(root.handlers):
        if getattr(handler, "visapi", False):
            root.removeHandler(handler)
    handler = logging.StreamHandler(sys.stderr)
    handler.visapi = True  # type: ignore[attr-defined]
    handler.addFilter(CorrelationIdFilter())
    handler.setFormatter(KeyValueFormatter())
    root.addHandler(handler)
    root.setLevel(level.upper() if isinstance(level, str) else level)
