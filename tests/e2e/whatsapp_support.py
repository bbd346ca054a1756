"""Meta's WhatsApp webhook in tests: the signed envelope of delivery statuses, a sent
notification to match, and what was stored."""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import insert, select

from app.orders.commands import CreateOrder, OrderAccepted
from infrastructure.db.tables import delivery_events, notifications
from rest.whatsapp import signature_of
from tests.auth import running
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
    container: Container,
    *,
    sent_at: datetime | None = SENT,
    wamid: str | None = None,
    item: str = "",
    status: str = "sent",
    claimed_at: datetime | None = None,
) -> uuid.UUID:
    """An order confirmation our worker sent (the order made through the real command); with
    `status="pending"` and no `sent_at`, one it claimed and has not recorded as sent."""
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
        "status": status,
        "sent_at": sent_at,
        "claimed_at": claimed_at,
        "provider_message_id": wamid,
    }
    async with container.engine.begin() as conn:
        await conn.execute(insert(notifications), [row])
    return id
