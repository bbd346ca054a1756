"""Vendor settings and the Retry-After rule: what a malformed value stops, what a header means."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from infrastructure.vendors.cbb import retry_after_seconds
from visapi.settings import SettingsError, load_settings

NOW = datetime(2026, 3, 1, 12, 0, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("header", "seconds"),
    [
        ("120", 120.0),
        (" 5 ", 5.0),
        ("1.5", 1.5),
        ("-3", 0.0),
        ("Sun, 01 Mar 2026 12:00:30 GMT", 30.0),
        ("Sun, 01 Mar 2026 11:00:00 GMT", 0.0),  # a date in the past: no wait
        ("soon", None),
        ("", None),
        (None, None),
    ],
)
def test_retry_after_is_seconds_or_an_http_date(header: str | None, seconds: float | None) -> None:
    assert retry_after_seconds(header, NOW) == seconds


@pytest.mark.parametrize(
    ("environ", "named"),
    [
        ({"VISAPI_CBB_BASE_URL": "https://cbb.example"}, "VISAPI_CBB_TOKEN"),
        ({"VISAPI_CBB_TOKEN": "t"}, "VISAPI_CBB_BASE_URL"),
        ({"VISAPI_CBB_BASE_URL": "cbb.example", "VISAPI_CBB_TOKEN": "t"}, "VISAPI_CBB_BASE_URL"),
        ({"VISAPI_CBB_TIMEOUT_S": "0"}, "VISAPI_CBB_TIMEOUT_S"),
        ({"VISAPI_CBB_RETRIES": "-1"}, "VISAPI_CBB_RETRIES"),
    ],
)
def test_malformed_vendor_settings_stop_the_start(environ: dict[str, str], named: str) -> None:
    with pytest.raises(SettingsError, match=named):
        load_settings(environ)


def test_the_crm_settings_go_together() -> None:
    settings = load_settings(
        {"VISAPI_CBB_BASE_URL": "https://cbb.example/api", "VISAPI_CBB_TOKEN": "t"}
    )
    assert (settings.cbb_base_url, settings.cbb_token) == ("https://cbb.example/api", "t")
