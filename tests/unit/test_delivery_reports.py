"""Meta delivery bodies read as status reports: whatever a field holds, parsing never raises."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from domain.notifications.delivery import change_fields, status_reports
from domain.notifications.status import NotificationStatus
from visapi.settings import SettingsError, load_settings


def body(*statuses: Any, field: str = "messages") -> dict[str, Any]:
    return {"entry": [{"changes": [{"field": field, "value": {"statuses": list(statuses)}}]}]}


def test_a_failed_status_reads_in_full() -> None:
    errors = [{"code": 131047, "title": "Re-engagement message", "message": "More than 24 hours"}]
    raw = {
        "id": "wamid.1",
        "status": "failed",
        "timestamp": "1772366400",
        "recipient_id": "972541112233",
        "errors": errors,
    }
    (report,) = status_reports(body(raw))
    assert report.provider_message_id == "wamid.1"
    assert report.status is NotificationStatus.FAILED
    assert report.at == datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
    assert report.phone == "972541112233"
    assert report.failure_reason == "131047 Re-engagement message: More than 24 hours"
    assert report.event_type == "status.failed"


@pytest.mark.parametrize(
    "payload",
    [None, [], "text", 7, {}, {"entry": "x"}, {"entry": [None, 1, {"changes": {"a": 1}}]}],
)
def test_bodies_without_statuses_give_none(payload: Any) -> None:
    assert status_reports(payload) == []
    assert change_fields(payload) == []


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (
            {"id": 5, "status": " READ ", "timestamp": "abc", "recipient_id": "+1 (555) 0100"},
            ("5", NotificationStatus.READ, None, "15550100"),
        ),
        (
            {"id": True, "status": "deleted", "timestamp": "9" * 30, "recipient_id": None},
            (None, None, None, None),
        ),
        (
            {"status": ["sent"], "timestamp": 12},
            (None, None, datetime(1970, 1, 1, 0, 0, 12, tzinfo=UTC), None),
        ),
    ],
)
def test_odd_fields_read_as_absent(raw: dict[str, Any], expected: tuple[Any, ...]) -> None:
    (report,) = status_reports(body(raw))
    assert (report.provider_message_id, report.status, report.at, report.phone) == expected


def test_change_fields_name_what_arrived() -> None:
    payload = {
        "entry": [
            {"changes": [{"field": "message_template_status_update", "value": {}}]},
            {"changes": [{"field": "messages", "value": {"messages": []}}]},
        ]
    }
    assert change_fields(payload) == ["message_template_status_update", "messages"]


@pytest.mark.parametrize(
    ("env", "named"),
    [
        ({"VISAPI_IDEMPOTENCY_WAIT_S": "30"}, "VISAPI_IDEMPOTENCY_WAIT_S"),
        ({"VISAPI_IDEMPOTENCY_RECLAIM_S": "20"}, "VISAPI_IDEMPOTENCY_RECLAIM_S"),
        ({"VISAPI_IDEMPOTENCY_TTL_S": "0"}, "VISAPI_IDEMPOTENCY_TTL_S"),
    ],
)
def test_idempotency_settings_are_checked(env: dict[str, str], named: str) -> None:
    with pytest.raises(SettingsError, match=named):
        load_settings(env)
