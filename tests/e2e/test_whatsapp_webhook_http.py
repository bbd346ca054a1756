"""Meta's WhatsApp webhook over HTTP, lifespan running: the verify-token handshake, signatures,
raw storage, and delivery statuses moving notifications forward only (both dialects)."""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import insert, select

from app.orders.commands import CreateOrder, OrderAccepted
from infrastructure.db.tables import delivery_events, notifications
from rest.whatsapp import signature_of
from tests.auth import errors_of, running, with_auth
from visapi.bootstrap import Container
from visapi.settings import Settings

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "vizi-orders"
URL = "/api/v1/webhooks/whatsapp"
SECRET = "meta-app-secret-for-tests"
VERIFY = "verify-me-please"
PHONE = "972541112233"  # il-uk-eta.json's client, normalised
SENT = datetime(2026, 3, 1, 12, 0, 0, tzinfo=UTC)


def configured(settings: Settings) -> Settings:
    return replace(settings, whatsapp_app_secret=SECRET, whatsapp_verify_token=VERIFY)


@asynccontextmanager
async def meta(settings: Settings) -> AsyncIterator[tuple[Container, httpx.AsyncClient]]:
    async with running(settings) as (container, http):
        yield container, http


def status(
    wamid: str, state: str, at: datetime, phone: str = PHONE, **extra: Any
) -> dict[str, Any]:
    return {
        "id": wamid,
        "status": state,
        "timestamp": str(int(at.timestamp())),
        "recipient_id": phone,
        **extra,
    }


def envelope(*statuses: dict[str, Any]) -> dict[str, Any]:
    value = {"messaging_product": "whatsapp", "metadata": {"phone_number_id": "1"}}
    change = {"field": "messages", "value": {**value, "statuses": list(statuses)}}
    return {"object": "whatsapp_business_account", "entry": [{"id": "waba", "changes": [change]}]}


async def post(http: httpx.AsyncClient, body: Any, secret: str | None = SECRET) -> httpx.Response:
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    headers = {"Content-Type": "application/json"}
    if secret is not None:
        headers["X-Hub-Signature-256"] = signature_of(raw, secret)
    return await http.post(URL, content=raw, headers=headers)


async def stored_events(container: Container) -> list[dict[str, Any]]:
    query = select(delivery_events).order_by(delivery_events.c.received_at)
    async with container.engine.connect() as conn:
        return [dict(r._mapping) for r in (await conn.execute(query)).all()]


async def notification(container: Container, id: uuid.UUID) -> dict[str, Any]:
    async with container.engine.connect() as conn:
        row = (await conn.execute(select(notifications).where(notifications.c.id == id))).one()
    return dict(row._mapping)


async def sent_notification(
    container: Container, *, sent_at: datetime = SENT, wamid: str | None = None, item: str = ""
) -> uuid.UUID:
    """An order confirmation our worker sent (the order made through the real command)."""
    body = json.loads((FIXTURES / "il-uk-eta.json").read_text())
    outcome = await container.bus.handle(CreateOrder(payload=body))
    assert isinstance(outcome, OrderAccepted)
    id = uuid.uuid4()
    row = {
        "id": id,
        "order_uuid": outcome.order.id,
        # Not the confirmation the embedded worker may be queueing for this order meanwhile.
        "kind": "visa_approval",
        "item": item,
        "template": "order_confirmation_global",
        "language": "he",
        "params": [],
        "phone": PHONE,
        "status": "sent",
        "sent_at": sent_at,
        "provider_message_id": wamid,
    }
    async with container.engine.begin() as conn:
        await conn.execute(insert(notifications), [row])
    return id


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


# --- storage ----------------------------------------------------------------------------------


async def test_every_accepted_body_is_stored_raw(sqlite_url: str) -> None:
    settings = configured(with_auth(Settings(database_url=sqlite_url)))
    async with meta(settings) as (container, http):
        body = envelope(status("wamid.NOBODY", "delivered", SENT))
        assert (await post(http, body)).status_code == 200
        incoming = {
            "object": "whatsapp_business_account",
            "entry": [{"changes": [{"field": "messages", "value": {"messages": [{"id": "m"}]}}]}],
        }
        assert (await post(http, incoming)).status_code == 200
        malformed = await post(http, b'{"entry": [')
        assert malformed.status_code == 400
        assert "not valid JSON" in errors_of(malformed)[0]["message"]
        rows = await stored_events(container)
    summary = [
        (
            r["event_type"],
            r["provider_message_id"],
            r["phone"],
            r["processing_status"],
            r["signature_verified"],
        )
        for r in rows
    ]
    assert summary == [
        ("status.delivered", "wamid.NOBODY", PHONE, "unmatched", True),
        ("messages", None, None, "ignored", True),
        (None, None, None, "failed", True),
    ]
    assert [r["payload"] for r in rows] == [body, incoming, '{"entry": [']


async def test_a_signed_body_holding_nul_is_stored_replaced(app_settings: Settings) -> None:
    """Found by the fuzz suite: a signed body with U+0000 (JSON or not) answered 500 on
    PostgreSQL, which refuses it in JSONB and text. It is replaced as in an order's body."""
    async with meta(configured(app_settings)) as (container, http):
        body = envelope(status("wamid.N\x00UL", "delivered", SENT, phone="97254\x00"))
        assert (await post(http, body)).status_code == 200
        not_json = await post(http, b"\x00{")
        assert not_json.status_code == 400, not_json.text
        rows = await stored_events(container)
    assert [(r["provider_message_id"], r["phone"]) for r in rows] == [
        ("wamid.N\ufffdUL", "97254"),  # phones keep their digits only
        (None, None),
    ]
    assert rows[1]["payload"] == "\ufffd{"


# --- statuses -------------------------------------------------------------------------------


async def test_statuses_only_move_forward(app_settings: Settings) -> None:
    async with meta(configured(app_settings)) as (container, http):
        id = await sent_notification(container, wamid="wamid.A")
        later = SENT + timedelta(seconds=5)
        assert (
            await post(http, envelope(status("wamid.A", "delivered", later)))
        ).status_code == 200
        assert (await post(http, envelope(status("wamid.A", "sent", SENT)))).status_code == 200
        row = await notification(container, id)
        assert (row["status"], row["delivered_at"], row["sent_at"]) == ("delivered", later, SENT)

        read = SENT + timedelta(seconds=30)
        await post(
            http, envelope(status("wamid.A", "read", read), status("wamid.A", "delivered", later))
        )
        row = await notification(container, id)
        assert (row["status"], row["read_at"]) == ("read", read)

        errors = [
            {
                "code": 131026,
                "title": "Message undeliverable",
                "error_data": {"details": "Recipient is not a WhatsApp user"},
            }
        ]
        failed = SENT + timedelta(seconds=40)
        await post(http, envelope(status("wamid.A", "failed", failed, errors=errors)))
        row = await notification(container, id)
        assert (row["status"], row["failed_at"]) == ("failed", failed)
        assert (
            row["failure_reason"]
            == "131026 Message undeliverable: Recipient is not a WhatsApp user"
        )
        statuses = [r["processing_status"] for r in await stored_events(container)]
        assert statuses == ["processed"] * 5


async def test_a_status_without_our_id_matches_by_phone_within_five_minutes(
    app_settings: Settings,
) -> None:
    async with meta(configured(app_settings)) as (container, http):
        id = await sent_notification(container)
        at = SENT + timedelta(minutes=4)
        await post(http, envelope(status("wamid.B", "delivered", at, phone="+972 54-111-2233")))
        row = await notification(container, id)
        assert (row["status"], row["provider_message_id"], row["delivered_at"]) == (
            "delivered",
            "wamid.B",
            at,
        )
        # Now matched by the id it took, whatever the phone says.
        await post(http, envelope(status("wamid.B", "read", at, phone="1")))
        assert (await notification(container, id))["status"] == "read"


@pytest.mark.parametrize("offset", [timedelta(minutes=6), timedelta(minutes=-1)])
async def test_a_status_outside_the_window_matches_nothing(
    app_settings: Settings, offset: timedelta
) -> None:
    async with meta(configured(app_settings)) as (container, http):
        id = await sent_notification(container)
        response = await post(http, envelope(status("wamid.C", "delivered", SENT + offset)))
        assert response.status_code == 200
        row = await notification(container, id)
        assert (row["status"], row["provider_message_id"]) == ("sent", None)
        (event,) = await stored_events(container)
        assert event["processing_status"] == "unmatched"


async def test_the_phone_match_takes_the_newest_notification_without_an_id(
    sqlite_url: str,
) -> None:
    async with meta(configured(with_auth(Settings(database_url=sqlite_url)))) as (container, http):
        older = await sent_notification(container, sent_at=SENT, item="a")
        newer = await sent_notification(container, sent_at=SENT + timedelta(minutes=1), item="b")
        taken = await sent_notification(
            container, sent_at=SENT + timedelta(minutes=2), item="c", wamid="wamid.OTHER"
        )
        at = SENT + timedelta(minutes=3)
        await post(http, envelope(status("wamid.D", "delivered", at)))
        assert (await notification(container, newer))["provider_message_id"] == "wamid.D"
        assert (await notification(container, older))["provider_message_id"] is None
        assert (await notification(container, taken))["status"] == "sent"
