"""Meta's delivery webhooks read as status reports, and the window that matches them by phone.

A body is `{entry: [{changes: [{field, value: {statuses: [...]}}]}]}`; each status has `id`
(the provider message id, `wamid.…`), `status` (sent, delivered, read, failed), `timestamp`
(unix seconds, as a string), `recipient_id` (the phone, digits) and, when failed, `errors[]`.
Anything else in a body (incoming messages, template updates) is kept raw and not acted on.
Parsing never raises: whatever a field holds, it is read as absent when it is not usable.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from domain.notifications.status import NotificationStatus, advances

# CBB drops our callback data, so a status is matched to the newest notification sent to its
# phone in the 5 minutes before the event (reference digest §3.6) ...
MATCH_WINDOW = timedelta(minutes=5)
# ... or a few seconds after it: Meta stamps whole seconds when it sends, and our worker records
# `sent_at` only once the vendor call has returned, so our time can trail the event's.
CLOCK_GRACE = timedelta(seconds=10)
TRACKED = {
    "sent": NotificationStatus.SENT,
    "delivered": NotificationStatus.DELIVERED,
    "read": NotificationStatus.READ,
    "failed": NotificationStatus.FAILED,
}
_ID_MAX, _PHONE_MAX, _REASON_MAX, _TYPE_MAX = 128, 32, 1000, 32


@dataclass(frozen=True)
class StatusReport:
    """One status of one message, as Meta reported it."""

    provider_message_id: str | None
    reported: str | None  # as sent, e.g. "delivered" (or "deleted", which we do not track)
    at: datetime | None
    phone: str | None  # digits only
    failure_reason: str | None = None

    @property
    def status(self) -> NotificationStatus | None:
        return TRACKED.get(self.reported or "")

    @property
    def event_type(self) -> str:
        return f"status.{self.reported or 'unknown'}"[:_TYPE_MAX]


def status_reports(body: Any) -> list[StatusReport]:
    """Every status of every change of every entry, in body order."""
    return [_report(s) for value in _change_values(body) for s in _list(value.get("statuses"))]


def change_fields(body: Any) -> list[str]:
    """The `field` of each change (messages, message_template_status_update, ...)."""
    fields = []
    for entry in _list(body.get("entry") if isinstance(body, Mapping) else None):
        for change in _list(entry.get("changes")):
            field = change.get("field")
            if isinstance(field, str) and field:
                fields.append(field[:_TYPE_MAX])
    return fields


def earlier_statuses(reported: NotificationStatus) -> list[NotificationStatus]:
    """Statuses that `reported` advances from: a status is only ever replaced by a later one."""
    return [s for s in NotificationStatus if advances(s, reported)]


def phone_window(at: datetime) -> tuple[datetime, datetime]:
    """Earliest and latest `sent_at` of a notification a report at `at` may match by phone."""
    return at - MATCH_WINDOW, at + CLOCK_GRACE


def _change_values(body: Any) -> Iterator[Mapping[str, Any]]:
    for entry in _list(body.get("entry") if isinstance(body, Mapping) else None):
        for change in _list(entry.get("changes")):
            value = change.get("value")
            if isinstance(value, Mapping):
                yield value


def _list(raw: Any) -> list[Mapping[str, Any]]:
    return [item for item in raw if isinstance(item, Mapping)] if isinstance(raw, list) else []


def _report(raw: Mapping[str, Any]) -> StatusReport:
    status = raw.get("status")
    return StatusReport(
        provider_message_id=_text(raw.get("id"), _ID_MAX),
        reported=status.strip().lower()[:_TYPE_MAX] if isinstance(status, str) else None,
        at=_timestamp(raw.get("timestamp")),
        phone=_digits(raw.get("recipient_id")),
        failure_reason=_reason(raw.get("errors")),
    )


def _text(raw: Any, limit: int) -> str | None:
    text = str(raw).strip() if isinstance(raw, str | int) and not isinstance(raw, bool) else ""
    return text[:limit] or None


def _digits(raw: Any) -> str | None:
    text = _text(raw, 64)
    digits = "".join(c for c in text or "" if c.isdigit())
    return digits[:_PHONE_MAX] or None


def _timestamp(raw: Any) -> datetime | None:
    text = _text(raw, 20)
    if text is None or not text.isdigit():
        return None
    try:
        return datetime.fromtimestamp(int(text), UTC)
    except (OverflowError, OSError, ValueError):
        return None


def _reason(raw: Any) -> str | None:
    """`<code> <title>: <details>` of each error, e.g. `131026 Message undeliverable: …`."""
    parts = []
    for error in _list(raw):
        data = error.get("error_data")
        details = data.get("details") if isinstance(data, Mapping) else None
        head = " ".join(
            str(x) for x in (error.get("code"), error.get("title")) if x not in (None, "")
        )
        text = ": ".join(str(x) for x in (head, details or error.get("message")) if x)
        if text:
            parts.append(text)
    return "; ".join(parts)[:_REASON_MAX] or None
