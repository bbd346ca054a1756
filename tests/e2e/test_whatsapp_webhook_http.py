"""Meta's WhatsApp webhook over HTTP, lifespan running: raw storage, and delivery statuses
moving notifications forward only (both dialects)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from tests.auth import errors_of, with_auth
from tests.e2e.whatsapp_support import (
    PHONE,
    SENT,
    configured,
    envelope,
    meta,
    notification,
    post,
    sent_notification,
    status,
    stored_events,
)
from visapi.settings import Settings

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


async def test_a_pending_claim_is_matched_by_phone_and_counts_as_sent(
    app_settings: Settings,
) -> None:
    """The worker died between the vendor's answer and recording `sent`: the message's statuses
    (an id we never stored) find the `pending` row by its claim's time, so the job redelivered
    after the claim turns stale finds it done instead of sending it again."""
    async with meta(configured(app_settings)) as (container, http):
        claimed = SENT - timedelta(seconds=2)
        pending = await sent_notification(
            container, sent_at=None, status="pending", claimed_at=claimed, item="p"
        )
        queued = await sent_notification(container, sent_at=None, status="queued", item="q")
        sent, delivered = status("wamid.P", "sent", SENT), status("wamid.P", "delivered", SENT)
        await post(http, envelope(sent, delivered))
        row = await notification(container, pending)
        assert (row["status"], row["provider_message_id"]) == ("delivered", "wamid.P")
        assert (row["sent_at"], row["delivered_at"]) == (SENT, SENT)
        assert (await notification(container, queued))["status"] == "queued"


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
