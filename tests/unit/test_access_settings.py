"""Access settings: DOMAIN.md's defaults, and a malformed value stops the start naming it."""

from __future__ import annotations

import pytest

from infrastructure.auth.verifiers import JwtTokens, NoTokens
from tests.auth import rsa_keys
from visapi.settings import Settings, SettingsError, load_settings
from visapi.slices.access import token_verifier

JWT = {"VISAPI_JWT_ISSUER": "https://idp/", "VISAPI_JWT_AUDIENCE": "visapi"}


def test_defaults_are_the_domain_ones() -> None:
    s = load_settings({})
    assert (s.rate_limit_per_key, s.rate_limit_per_ip, s.rate_limit_failed_auth) == (1200, 300, 30)
    assert s.rate_limit_window_s == 60
    assert (s.api_key_expiry_days, s.api_key_cache_ttl_s, s.key_usage_flush_interval_s) == (
        90,
        900,
        300,
    )
    assert s.api_key_hash_cost == "default"  # production: the library's own cost
    assert isinstance(token_verifier(s), NoTokens)


@pytest.mark.parametrize(
    ("environ", "named"),
    [
        ({"VISAPI_RATE_LIMIT_PER_KEY": "0"}, "VISAPI_RATE_LIMIT_PER_KEY"),
        ({"VISAPI_RATE_LIMIT_WINDOW_S": "-1"}, "VISAPI_RATE_LIMIT_WINDOW_S"),
        ({"VISAPI_API_KEY_EXPIRY_DAYS": "ninety"}, "VISAPI_API_KEY_EXPIRY_DAYS"),
        ({"VISAPI_API_KEY_HASH_COST": "none"}, "VISAPI_API_KEY_HASH_COST"),
        ({"VISAPI_SECRET_KEY": "short"}, "VISAPI_SECRET_KEY"),
        ({"VISAPI_JWT_SECRET": "s" * 40}, "VISAPI_JWT_ISSUER"),
        ({"VISAPI_JWT_SECRET": "short", **JWT}, "VISAPI_JWT_SECRET"),
        ({"VISAPI_JWT_SECRET": "s" * 40, "VISAPI_JWT_PUBLIC_KEY": "x", **JWT}, "not both"),
    ],
)
def test_bad_values_stop_the_start(environ: dict[str, str], named: str) -> None:
    with pytest.raises(SettingsError, match=named):
        load_settings(environ)


def test_jwt_verifiers_by_setting() -> None:
    hs = load_settings({"VISAPI_JWT_SECRET": "s" * 40, **JWT})
    assert isinstance(token_verifier(hs), JwtTokens)
    _, pem = rsa_keys()
    one_line = pem.replace("\n", "\\n")  # how a PEM fits in one environment variable
    rs = load_settings({"VISAPI_JWT_PUBLIC_KEY": one_line, **JWT})
    assert isinstance(token_verifier(rs), JwtTokens)
    broken = Settings(jwt_public_key="not a key", jwt_issuer="i", jwt_audience="a")
    with pytest.raises(SettingsError, match="VISAPI_JWT_PUBLIC_KEY"):
        token_verifier(broken)
