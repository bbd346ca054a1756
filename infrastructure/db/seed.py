"""Demo data: plausible storefront orders run through the real normalisation, batch-inserted."""

from __future__ import annotations

import random
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import insert, text

from domain.orders.intake import order_from_body
from infrastructure.db.engine import create_engine
from infrastructure.db.orders import order_to_row
from infrastructure.db.tables import events, orders

BRANCHES = {
    "il": ("ILS", "+972"),
    "se": ("SEK", "+46"),
    "co": ("COP", "+57"),
    "ru": ("RUB", "+7"),
    "kz": ("KZT", "+7"),
}
PRODUCTS = [
    ("india", "evisa", "eVisa", "year", 4),
    ("uk", "eta", "UK-ETA", "2_years", 3),
    ("usa", "esta", "ESTA", "2_years", 3),
    ("korea", "k-eta", "K-ETA", "3_years", 3),
    ("vietnam", "evisa", "eVisa", "month", 0),
    ("morocco", "evisa", "eVisa", "6_months", 0),
    ("schengen", "visa", "Schengen", "3_months", 21),
]
NAMES = [
    "Avi Cohen",
    "Noa Levi",
    "Elin Berg",
    "Olof Berg",
    "Ivan Petrov",
    "Aigerim Nur",
    "Ana Gómez",
]
URGENCY = ["none", "none", "none", "next_day", "few_hours"]
STATUSES = ["active", "active", "active", "completed", "issue", "canceled"]


def demo_body(rng: random.Random, n: int, run: str) -> dict[str, Any]:
    branch = rng.choice(list(BRANCHES))
    currency, code = BRANCHES[branch]
    country, doc_type, doc_name, validity, wait = rng.choice(PRODUCTS)
    name = rng.choice(NAMES)
    number = (
        f"05{rng.randrange(10_000_000, 99_999_999)}"
        if branch == "il"
        else str(rng.randrange(700_000_000, 799_999_999))
    )
    order_id = f"{branch.upper()}{run}{country[:2].upper()}{n:07d}"
    return {
        "order": {
            "id": order_id,
            "form_id": f"frm_{n}",
            "branch": branch,
            "domain": f"visanet.{branch}",
            "payment_processor": rng.choice(["stripe", "paypal", "bit"]),
            "payment_id": f"pay_{n}",
            "amount": rng.choice([45, 89, 119, 165, 470, 1290]),
            "currency": currency,
            "status": rng.choice(STATUSES),
        },
        "form": {
            "id": f"frm_{n}",
            "country": country,
            "client": {
                "name": name,
                "email": f"{name.split()[0].lower()}.{n}@example.com",
                "phone": {"code": code, "number": number},
                "whatsappAlertsEnabled": rng.random() < 0.7,
            },
            "product": {
                "name": f"{country}_{validity}",
                "country": country,
                "docType": doc_type,
                "docName": doc_name,
                "validity": validity,
                "wait": wait,
            },
            "quantity": rng.randint(1, 3),
            "urgency": rng.choice(URGENCY),
            "applicants": [],
        },
    }


async def seed_orders(
    url: str,
    count: int,
    *,
    batch: int = 1000,
    seed: int | None = None,
    progress: Callable[[int], object] = lambda _n: None,
) -> None:
    """Insert `count` demo orders spread over the last 90 days, each with its OrderCreated event."""
    rng = random.Random(seed)
    run = uuid.uuid4().hex[:6].upper()  # keeps order ids unique across seed runs
    now = datetime.now(UTC)
    engine = create_engine(url)
    try:
        for start in range(0, count, batch):
            order_rows, event_rows = [], []
            for n in range(start, min(start + batch, count)):
                at = now - timedelta(seconds=rng.randrange(90 * 86_400))
                order = order_from_body(demo_body(rng, n, run), id=uuid.uuid4(), now=at)
                order.record_created(actor="seed")
                order_rows.append(order_to_row(order))
                for event in order.events:
                    event_rows.append(
                        {
                            "id": uuid.uuid4(),
                            "type": event.type,
                            "aggregate_type": event.aggregate_type,
                            "aggregate_id": event.aggregate_id,
                            "payload": event.payload(),
                            "actor": "seed",
                            "occurred_at": event.occurred_at,
                        }
                    )
            async with engine.begin() as conn:
                await conn.execute(insert(orders), order_rows)
                await conn.execute(insert(events), event_rows)
            progress(len(order_rows))
        async with engine.begin() as conn:
            # Fresh statistics after a bulk load, or the planner guesses from an empty table.
            await conn.execute(
                text(
                    "ANALYZE orders"
                    if engine.dialect.name == "sqlite"
                    else "ANALYZE orders, events"
                )
            )
    finally:
        await engine.dispose()
