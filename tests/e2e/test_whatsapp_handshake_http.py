"""Meta's WhatsApp webhook over HTTP: the verify-token handshake and the body signatures."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest

from rest.whatsapp import signature_of
from tests.auth import errors_of, with_auth
from tests.e2e.whatsapp_support import (
    SECRET,
    SENT,
    URL,
    VERIFY,
    configured,
    envelope,
    meta,
    post,
    status,
    stored_events,
)
from visapi.settings import Settings

# --- the handshake -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("query", "code"),
    [
        ({"hub.mode": "subscribe", "hub.verify_token": VERIFY, "hub.challenge": "1158201444"}, 200),
        ({"hub.mode": "subscribe", "hub.verify_token": "guess", "hub.challenge": "1"}, 403),
        ({"hub.mode": "unsubscribe", "hub.verify_token": VERIFY, "hub.challenge": "1"}, 403),
        ({"hub.challenge": "1"}, 403),
    ],
)
async def test_the_verify_token_handshake(
    sqlite_url: str, query: dict[str, str], code: int
) -> None:
    async with meta(configured(with_auth(Settings(database_url=sqlite_url)))) as (_, http):
        response = await http.get(URL, params=query)
    assert response.status_code == code, response.text
    if code == 200:
        assert response.text == "1158201444"
        assert response.headers["content-type"].startswith("text/plain")
    else:
        assert errors_of(response)[0]["extensions"]["code"] == "FORBIDDEN"


async def test_without_a_verify_token_the_handshake_is_503(sqlite_url: str) -> None:
    async with meta(with_auth(Settings(database_url=sqlite_url))) as (_, http):
        query = {"hub.mode": "subscribe", "hub.verify_token": "", "hub.challenge": "1"}
        response = await http.get(URL, params=query)
    assert response.status_code == 503


# --- signatures ------------------------------------------------------------------------------


@pytest.mark.parametrize(("secret", "code"), [(SECRET, 200), ("another-secret", 401), (None, 401)])
async def test_only_a_signed_body_is_accepted(
    sqlite_url: str, secret: str | None, code: int
) -> None:
    settings = configured(with_auth(Settings(database_url=sqlite_url)))
    async with meta(settings) as (container, http):
        response = await post(http, envelope(status("wamid.X", "sent", SENT)), secret)
        assert response.status_code == code, response.text
        assert len(await stored_events(container)) == (1 if code == 200 else 0)


async def test_a_body_changed_after_signing_is_401(sqlite_url: str) -> None:
    settings = configured(with_auth(Settings(database_url=sqlite_url)))
    async with meta(settings) as (container, http):
        raw = json.dumps(envelope(status("wamid.X", "sent", SENT))).encode()
        headers = {"X-Hub-Signature-256": signature_of(raw, SECRET)}
        response = await http.post(URL, content=raw + b" ", headers=headers)
        assert response.status_code == 401
        assert await stored_events(container) == []


async def test_without_an_app_secret_nothing_is_accepted(sqlite_url: str) -> None:
    settings = replace(with_auth(Settings(database_url=sqlite_url)), whatsapp_verify_token=VERIFY)
    async with meta(settings) as (container, http):
        response = await post(http, envelope(status("wamid.X", "sent", SENT)), "anything")
        assert response.status_code == 503
        assert await stored_events(container) == []


async def test_the_webhook_needs_no_api_key_but_a_bad_one_changes_nothing(sqlite_url: str) -> None:
    settings = configured(with_auth(Settings(database_url=sqlite_url)))
    async with meta(settings) as (_, http):
        http.headers["X-API-Key"] = "vk_0000000000000000.nonsense"
        response = await post(http, envelope(status("wamid.X", "sent", SENT)))
        assert response.status_code == 200
