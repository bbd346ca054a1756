"""The gate's pure parts: reading the credential from headers, the rate-limit headers, and the
REST routes' permission check (401 anonymous, 403 lacking, None allowed)."""

from __future__ import annotations

import orjson
import pytest

from app.auth.authenticate import CredentialKind
from app.auth.credentials import credential_of
from app.auth.ports import Verdict
from app.errors import Unauthenticated
from domain.auth.permissions import Permission
from rest.gate import limit_headers, require
from tests.unit.rest_support import caller, request

JWT = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln"


def test_no_credential_header_is_anonymous() -> None:
    assert credential_of({b"accept": b"*/*"}) is None


def test_an_api_key_header_is_an_api_key() -> None:
    found = credential_of({b"x-api-key": b" vk_ab.secret "})
    assert found is not None
    assert (found.kind, found.value) == (CredentialKind.API_KEY, "vk_ab.secret")


def test_the_api_key_header_wins_over_authorization() -> None:
    found = credential_of(
        {b"x-api-key": b"vk_ab.secret", b"authorization": b"Bearer " + JWT.encode()}
    )
    assert found is not None
    assert found.kind is CredentialKind.API_KEY


def test_a_bearer_jwt_is_a_token() -> None:
    found = credential_of({b"authorization": f"Bearer {JWT}".encode()})
    assert found is not None
    assert (found.kind, found.value) == (CredentialKind.TOKEN, JWT)


def test_a_bearer_that_is_not_a_jwt_is_an_api_key() -> None:
    found = credential_of({b"authorization": b"bearer vk_ab.secret"})
    assert found is not None
    assert (found.kind, found.value) == (CredentialKind.API_KEY, "vk_ab.secret")


@pytest.mark.parametrize("raw", [b"Basic dTpw", b"Bearer", b"Bearer   ", b"vk_ab.secret"])
def test_an_authorization_not_bearer_is_refused(raw: bytes) -> None:
    with pytest.raises(Unauthenticated, match="Bearer"):
        credential_of({b"authorization": raw})


@pytest.mark.parametrize("raw", [b"   ", b"x" * 4097, "clé".encode()])
def test_a_header_that_cannot_be_a_credential_is_refused(raw: bytes) -> None:
    with pytest.raises(Unauthenticated, match="malformed credentials"):
        credential_of({b"x-api-key": raw})


def test_limit_headers_round_the_reset_up() -> None:
    verdict = Verdict(allowed=True, limit=100, remaining=7, reset_s=12.2)
    assert limit_headers(verdict) == [
        (b"x-ratelimit-limit", b"100"),
        (b"x-ratelimit-remaining", b"7"),
        (b"x-ratelimit-reset", b"13"),
    ]


def test_a_reset_due_now_is_announced_as_one_second() -> None:
    verdict = Verdict(allowed=False, limit=100, remaining=0, reset_s=0.0)
    assert dict(limit_headers(verdict))[b"x-ratelimit-reset"] == b"1"


def test_no_limit_headers_when_the_limiter_is_down() -> None:
    assert limit_headers(None) == []


def test_require_lets_a_caller_with_the_permission_through() -> None:
    assert require(request(principal=caller(Permission.LOGS_READ)), Permission.LOGS_READ) is None


def test_require_answers_401_with_a_challenge_to_anonymous_callers() -> None:
    denied = require(request(principal=None), Permission.LOGS_READ)
    assert denied is not None
    assert denied.status_code == 401
    assert denied.headers["www-authenticate"] == 'Bearer realm="visapi"'
    error = orjson.loads(denied.body)["errors"][0]
    assert error["extensions"]["code"] == "UNAUTHENTICATED"


def test_require_answers_403_naming_the_missing_permission() -> None:
    denied = require(request(principal=caller(Permission.LOGS_READ)), Permission.WORKFLOWS_RUN)
    assert denied is not None
    assert denied.status_code == 403
    error = orjson.loads(denied.body)["errors"][0]
    assert error["message"] == "Missing permission workflows:run."
    assert error["extensions"] == {"code": "FORBIDDEN", "permission": "workflows:run"}
