"""Retention settings: every window is read, and a window that cannot be applied stops the start."""

from __future__ import annotations

import pytest

from visapi.settings import SettingsError, load_settings


def test_defaults_and_overrides() -> None:
    assert load_settings({}).retention_days == {
        "webhook_payloads": 30.0,
        "outbox": 7.0,
        "delivery_events": 90.0,
        "failed_jobs": 30.0,
        "unreplayed_failed_jobs": 90.0,
        "sandbox_messages": 30.0,
    }
    settings = load_settings(
        {"VISAPI_RETENTION_WEBHOOK_PAYLOADS_DAYS": "3.5", "VISAPI_RETENTION_BATCH": "250"}
    )
    assert (settings.retention_days["webhook_payloads"], settings.retention_batch) == (3.5, 250)


@pytest.mark.parametrize(
    ("environ", "named"),
    [
        ({"VISAPI_RETENTION_OUTBOX_DAYS": "0"}, "VISAPI_RETENTION_OUTBOX_DAYS"),
        ({"VISAPI_RETENTION_FAILED_JOBS_DAYS": "-1"}, "VISAPI_RETENTION_FAILED_JOBS_DAYS"),
        ({"VISAPI_RETENTION_DELIVERY_EVENTS_DAYS": "nan"}, "VISAPI_RETENTION_DELIVERY_EVENTS_DAYS"),
        ({"VISAPI_RETENTION_WEBHOOK_PAYLOADS_DAYS": "inf"}, "VISAPI_RETENTION_WEBHOOK_PAYLOADS"),
        ({"VISAPI_RETENTION_UNREPLAYED_FAILED_JOBS_DAYS": "1e9"}, "UNREPLAYED_FAILED_JOBS_DAYS"),
        ({"VISAPI_LOG_RETENTION_DAYS": "nan"}, "VISAPI_LOG_RETENTION_DAYS"),
        ({"VISAPI_RETENTION_OUTBOX_DAYS": "a week"}, "VISAPI_RETENTION_OUTBOX_DAYS"),
        ({"VISAPI_RETENTION_BATCH": "0"}, "VISAPI_RETENTION_BATCH"),
        ({"VISAPI_RETENTION_INTERVAL_S": "0"}, "VISAPI_RETENTION_INTERVAL_S"),
    ],
)
def test_a_window_that_cannot_apply_stops_the_start(environ: dict[str, str], named: str) -> None:
    with pytest.raises(SettingsError, match=named):
        load_settings(environ)
