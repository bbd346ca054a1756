"""Test data: valid `orders`, `events`, `contact_syncs` and `notifications` rows for Core inserts.

Everything is derived from a seeded `random.Random` and fixed timestamps, so a failing case
can be reproduced exactly.
"""

from __future__ import annotations

import random
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from types import SimpleNamespace
from typing import Any

from sqlalchemy import Table, insert
from sqlalchemy.ext.asyncio import AsyncEngine

from infrastructure.db.tables import contact_syncs, events, notifications, orders

BASE = datetime(2026, 11, 20, 0, 0, tzinfo=UTC)
BRANCHES = ("il", "se", "co", "ru", "kz")
STATUSES = ("active", "completed", "issue", "canceled", "pending")
COUNTRIES = ("india", "uk", "usa", "vietnam", "morocco", "korea")
CURRENCIES = ("ILS", "USD", "GBP", "EUR")
DOC_TYPES = ("evisa", "eta", "esta", None)
# Few distinct amounts, so sorts and keysets meet many ties.
AMOUNTS = tuple(Decimal(a) for a in ("19.99", "49.00", "49.00", "120.50", "0.01", "999.95"))


def uuid_from(rng: random.Random) -> uuid.UUID:
    return uuid.UUID(int=rng.getrandbits(128), version=4)


def order_row(n: int, rng: random.Random | None = None, **overrides: Any) -> dict[str, Any]:
    """A complete `orders` row; `n` makes order_id unique, `rng` varies everything else."""
    rng = rng or random.Random(n)
    # Minutes over ~6 days with repeats (ties on created_at), some right at midnight UTC.
    created = BASE + timedelta(minutes=rng.choice([0, 1439, 1440]) + 60 * rng.randrange(0, 144))
    branch = rng.choice(BRANCHES)
    row: dict[str, Any] = {
        "id": uuid_from(rng),
        "order_id": f"{branch.upper()}2611{n:06d}",
        "form_id": f"form-{n}",
        "branch": branch,
        "domain": "visa.example",
        "payment_processor": "stripe",
        "payment_id": f"pi_{n}",
        "amount": rng.choice(AMOUNTS),
        "currency": rng.choice(CURRENCIES),
        "order_status": rng.choice(STATUSES),
        "client_name": f"Client {n}",
        "client_email": rng.choice([f"c{n % 7}@example.com", None]),
        "client_phone": rng.choice(["972507247157", "447700900123", None]),
        "phone_valid": True,
        "whatsapp_alerts_enabled": rng.random() < 0.5,
        "product_country": rng.choice(COUNTRIES),
        "product_doc_type": rng.choice(DOC_TYPES),
        "product_doc_name": None,
        "product_intent": "tourism",
        "visa_entries": rng.choice(["single", "multiple", None]),
        "product_validity": "month",
        "visa_document_validity_days": rng.choice([30, 365, None]),
        "processing_days": rng.choice([1, 3, 7]),
        "is_urgent": rng.random() < 0.2,
        "visa_quantity": rng.randint(1, 4),
        "entry_date": rng.choice([None, BASE + timedelta(days=30)]),
        "product_data": {},
        "applicants_data": [],
        "extra_data": {},
        "flags": rng.choice([[], [{"field": "form.client.phone", "issue": "invalid number"}]]),
        "webhook_received_at": created,
        "processed_at": rng.choice([None, created + timedelta(hours=rng.randint(1, 48))]),
        "created_at": created,
        "updated_at": created,
    }
    row.update(overrides)
    return row


def order_rows(count: int, seed: int = 7) -> list[dict[str, Any]]:
    rng = random.Random(seed)
    return [order_row(n, rng) for n in range(count)]


def event_row(order: dict[str, Any], type: str, minutes: int = 0, **kw: Any) -> dict[str, Any]:
    row = {
        "id": uuid.uuid4(),
        "type": type,
        "aggregate_type": "order",
        "aggregate_id": order["id"],
        "payload": {"order_id": order["order_id"]},
        "actor": "tests",
        "correlation_id": "c-1",
        "occurred_at": order["created_at"] + timedelta(minutes=minutes),
    }
    row.update(kw)
    return row


def contact_sync_row(order: dict[str, Any], **kw: Any) -> dict[str, Any]:
    row = {
        "id": uuid.uuid4(),
        "order_uuid": order["id"],
        "language": "he",
        "translated_fields": {},
        "synced": True,
        "contact_id": f"contact-{order['order_id']}",
        "created": True,
        "attempts": 1,
        "error_count": 0,
        "created_at": order["created_at"],
        "updated_at": order["created_at"],
    }
    row.update(kw)
    return row


def notification_row(order: dict[str, Any], kind: str, **kw: Any) -> dict[str, Any]:
    row = {
        "id": uuid.uuid4(),
        "order_uuid": order["id"],
        "kind": kind,
        "item": "",
        "template": "order_confirmation_global",
        "language": "he",
        "params": [],
        "phone": "972507247157",
        "status": "sent",
        "sent_at": order["created_at"] + timedelta(minutes=5),
        "attempts": 1,
        "created_at": order["created_at"] + timedelta(minutes=1),
        "updated_at": order["created_at"] + timedelta(minutes=1),
    }
    row.update(kw)
    return row


def later(row: dict[str, Any], minutes: int) -> datetime:
    return row["created_at"] + timedelta(minutes=minutes)


def as_order(row: dict[str, Any]) -> SimpleNamespace:
    """An object with the row's values as attributes, for `Spec.is_satisfied_by`."""
    return SimpleNamespace(**row)


async def insert_rows(engine: AsyncEngine, table: Table, rows: Sequence[dict[str, Any]]) -> None:
    if rows:
        async with engine.begin() as conn:
            await conn.execute(insert(table), list(rows))


async def seed_orders(
    engine: AsyncEngine, count: int, seed: int = 7, *, children: bool = True
) -> list[dict[str, Any]]:
    """Insert `count` orders; with `children`, two events for each, syncs and notifications."""
    rows = order_rows(count, seed)
    await insert_rows(engine, orders, rows)
    if children:
        await insert_rows(
            engine,
            events,
            [event_row(r, "order.created") for r in rows]
            + [event_row(r, "order.noted", minutes=3) for r in rows[::2]],
        )
        await insert_rows(engine, contact_syncs, [contact_sync_row(r) for r in rows[::3]])
        await insert_rows(
            engine,
            notifications,
            [notification_row(r, "order_confirmation") for r in rows[::2]]
            + [
                notification_row(r, "visa_approval", status="queued", created_at=later(r, 2))
                for r in rows[::4]
            ],
        )
    return rows
