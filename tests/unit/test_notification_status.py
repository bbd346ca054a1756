"""Notification statuses only move forward; delivery reports, their reasons and the phone window."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from domain.notifications.delivery import (
    StatusReport,
    earlier_statuses,
    phone_window,
    status_reports,
)
from domain.notifications.status import NotificationStatus as S
from domain.notifications.status import advances

AT = datetime(2026, 3, 1, 12, tzinfo=UTC)


@pytest.mark.parametrize(
    ("current", "reported", "moves"),
    [
        (S.SENT, S.DELIVERED, True),
        (S.DELIVERED, S.SENT, False),  # a late `sent` after `delivered`
        (S.READ, S.DELIVERED, False),
        (S.READ, S.FAILED, True),
        (S.FAILED, S.READ, False),
        (S.PENDING, S.SENT, True),
        (S.QUEUED, S.QUEUED, False),
        (S.DELIVERED, S.DELIVERED, False),  # a repeat changes nothing
    ],
)
def test_a_status_only_moves_forward(current: S, reported: S, moves: bool) -> None:
    assert advances(current, reported) is moves


def test_every_status_has_a_rank() -> None:
    # A status added without a rank would raise KeyError on the first webhook.
    for status in S:
        assert advances(status, status) is False


@pytest.mark.parametrize(
    ("reported", "earlier"),
    [
        (S.QUEUED, []),
        (S.SENT, [S.QUEUED, S.PENDING]),
        (S.READ, [S.QUEUED, S.PENDING, S.SENT, S.DELIVERED]),
        (S.FAILED, [S.QUEUED, S.PENDING, S.SENT, S.DELIVERED, S.READ]),
    ],
)
def test_earlier_statuses_are_the_ones_a_report_replaces(reported: S, earlier: list[S]) -> None:
    assert earlier_statuses(reported) == earlier


def test_the_phone_window_reaches_back_five_minutes_and_ahead_a_few_seconds() -> None:
    assert phone_window(AT) == (AT - timedelta(minutes=5), AT + timedelta(seconds=10))


@pytest.mark.parametrize(
    ("reported", "status", "event_type"),
    [
        ("sent", S.SENT, "status.sent"),
        ("deleted", None, "status.deleted"),
        (None, None, "status.unknown"),
        ("x" * 50, None, "status." + "x" * 25),
    ],
)
def test_a_report_names_its_status_and_event_type(
    reported: str | None, status: S | None, event_type: str
) -> None:
    report = StatusReport("wamid.1", reported, AT, "972500000000")
    assert (report.status, report.event_type) == (status, event_type)


def one(raw: dict[str, Any]) -> StatusReport:
    (report,) = status_reports(
        {"entry": [{"changes": [{"field": "messages", "value": {"statuses": [raw]}}]}]}
    )
    return report


@pytest.mark.parametrize(
    ("errors", "reason"),
    [
        ([{"code": 131026, "title": "Undeliverable", "error_data": {"details": "no WA"}}],
         "131026 Undeliverable: no WA"),
        ([{"code": 1}, {"title": "Second"}], "1; Second"),
        ([{"message": "only a message"}], "only a message"),
        ([{"code": "", "title": None}], None),
        ("not a list", None),
        ([], None),
    ],
)  # fmt: skip
def test_failure_reasons_join_every_error(errors: Any, reason: str | None) -> None:
    assert one({"status": "failed", "errors": errors}).failure_reason == reason


def test_a_failure_reason_is_cut_at_a_thousand_characters() -> None:
    errors = [{"title": "t" * 800}, {"title": "u" * 800}]
    assert len(one({"status": "failed", "errors": errors}).failure_reason or "") == 1000


def test_long_ids_and_phones_are_cut_to_their_columns() -> None:
    report = one({"id": "w" * 500, "recipient_id": "9" * 40})
    assert (len(report.provider_message_id or ""), report.phone) == (128, "9" * 32)


def test_statuses_of_several_entries_are_read_in_body_order() -> None:
    body = {
        "entry": [
            {"changes": [{"value": {"statuses": [{"id": "a"}, {"id": "b"}]}}]},
            {"changes": [{"value": {"statuses": [{"id": "c"}]}}, {"value": "odd"}]},
        ]
    }
    assert [r.provider_message_id for r in status_reports(body)] == ["a", "b", "c"]


def test_a_negative_timestamp_reads_as_absent() -> None:
    assert one({"timestamp": "-5"}).at is None
