"""Settings for browser apps: CORS origins as browsers send them, `*` kept out of production, the
preflight cache and the query cost limit; a malformed value stops the start naming it."""

from __future__ import annotations

import pytest

from rest.compression import accepts_gzip
from rest.cors import parse_origins
from visapi.settings import SettingsError, load_settings


def test_defaults() -> None:
    s = load_settings({})
    assert parse_origins(s.cors_origins) == ()  # no CORS headers at all
    assert s.cors_max_age_s == 600
    assert s.max_query_cost == 50_000


@pytest.mark.parametrize(
    ("raw", "origins"),
    [
        ("", ()),
        ("https://app.example.com", ("https://app.example.com",)),
        (
            " https://app.example.com , http://127.0.0.1:5173,",
            ("https://app.example.com", "http://127.0.0.1:5173"),
        ),
        # As a browser serialises the Origin header: lower case, no default port.
        ("HTTPS://App.Example.COM:443", ("https://app.example.com",)),
        ("http://localhost:80", ("http://localhost",)),
        ("http://[::1]:3000", ("http://[::1]:3000",)),
        ("https://a.example, https://a.example", ("https://a.example",)),
        ("*", ("*",)),
    ],
)
def test_origins_are_read_as_browsers_send_them(raw: str, origins: tuple[str, ...]) -> None:
    assert parse_origins(raw) == origins


@pytest.mark.parametrize(
    ("raw", "problem"),
    [
        ("https://app.example.com/", "no path"),
        ("https://app.example.com/app", "no path"),
        ("https://app.example.com?x=1", "no path"),
        ("app.example.com", "http:// or https://"),
        ("ftp://app.example.com", "http:// or https://"),
        ("null", "http:// or https://"),
        ("https://user:pw@app.example.com", "no user or password"),
        ("https://app.example.com:99999", "is not an origin"),
        ("https://app_example.com", "punycode"),
        ("https://", "the host"),
        ("*, https://app.example.com", "stands alone"),
    ],
)
def test_a_malformed_origin_is_named(raw: str, problem: str) -> None:
    with pytest.raises(ValueError, match=problem):
        parse_origins(raw)
    with pytest.raises(SettingsError, match="VISAPI_CORS_ORIGINS") as refused:
        load_settings({"VISAPI_CORS_ORIGINS": raw})
    assert problem in str(refused.value)


def test_any_origin_is_for_development_only() -> None:
    assert load_settings({"VISAPI_CORS_ORIGINS": "*"}).cors_origins == "*"
    with pytest.raises(SettingsError, match=r"VISAPI_CORS_ORIGINS=\* is refused"):
        load_settings({"VISAPI_CORS_ORIGINS": "*", "VISAPI_ENV": "production"})
    listed = {"VISAPI_CORS_ORIGINS": "https://app.example.com", "VISAPI_ENV": "production"}
    assert load_settings(listed).production


@pytest.mark.parametrize(
    ("environ", "named"),
    [
        ({"VISAPI_CORS_MAX_AGE_S": "-1"}, "VISAPI_CORS_MAX_AGE_S"),
        ({"VISAPI_CORS_MAX_AGE_S": "100000"}, "VISAPI_CORS_MAX_AGE_S"),
        ({"VISAPI_CORS_MAX_AGE_S": "ten"}, "VISAPI_CORS_MAX_AGE_S"),
        ({"VISAPI_MAX_QUERY_COST": "0"}, "VISAPI_MAX_QUERY_COST"),
        ({"VISAPI_MAX_QUERY_COST": "lots"}, "VISAPI_MAX_QUERY_COST"),
    ],
)
def test_bad_values_stop_the_start(environ: dict[str, str], named: str) -> None:
    with pytest.raises(SettingsError, match=named):
        load_settings(environ)


@pytest.mark.parametrize(
    ("header", "accepted"),
    [
        ("gzip, deflate, br, zstd", True),  # Chromium
        ("GZIP", True),
        ("x-gzip", True),
        ("br;q=1.0, gzip;q=0.8, *;q=0.1", True),
        ("*", True),
        ("", False),
        ("identity", False),
        ("br", False),
        ("gzip;q=0", False),
        ("gzip;q=0.000", False),
        ("*, gzip;q=0", False),  # named beats the wildcard
        ("*;q=0", False),
        ("gzip;q=oops", False),
        ("gzipped", False),
    ],
)
def test_accept_encoding_is_read_by_its_q_values(header: str, accepted: bool) -> None:
    assert accepts_gzip(header) is accepted
