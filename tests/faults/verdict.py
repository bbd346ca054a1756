"""The fault run's invariants, read from the database and the fake vendor: every acknowledged
order stored once, its contact created once at the CRM, its confirmation sent once."""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from dataclasses import dataclass, field

import asyncpg
import httpx

from tests.faults.storefront import Delivery


@dataclass
class Tally:
    stored: Counter[str] = field(default_factory=Counter)  # order id -> rows
    synced: Counter[str] = field(default_factory=Counter)  # phone -> CRM contact creates
    confirmed: Counter[str] = field(default_factory=Counter)  # phone -> messages sent

    def missing(self, acked: list[Delivery]) -> dict[str, list[str]]:
        return {
            "not stored": [d.order_id for d in acked if self.stored[d.order_id] == 0],
            "not synced": [d.order_id for d in acked if self.synced[d.phone] == 0],
            "not confirmed": [d.order_id for d in acked if self.confirmed[d.phone] == 0],
        }

    def duplicated(self, acked: list[Delivery]) -> dict[str, list[str]]:
        return {
            "stored twice": [d.order_id for d in acked if self.stored[d.order_id] > 1],
            "synced twice": [d.order_id for d in acked if self.synced[d.phone] > 1],
            "confirmed twice": [d.order_id for d in acked if self.confirmed[d.phone] > 1],
        }


async def tally(dsn: str, vendor_url: str, order_ids: list[str]) -> Tally:
    out = Tally()
    conn = await asyncpg.connect(dsn, timeout=10)
    try:
        rows = await conn.fetch(
            "SELECT order_id, count(*) AS n FROM orders WHERE order_id = ANY($1::text[])"
            " GROUP BY order_id",
            order_ids,
        )
    finally:
        await conn.close()
    out.stored.update({r["order_id"]: r["n"] for r in rows})
    async with httpx.AsyncClient(base_url=vendor_url, timeout=30) as vendor:
        creates = (
            await vendor.get("/_fake/requests", params={"operation": "contact.create"})
        ).json()
        messages = (await vendor.get("/_fake/messages")).json()
    for request in creates:
        body = request.get("body")
        if request.get("status") == 200 and isinstance(body, dict):
            out.synced[str(body.get("phone"))] += 1
    for message in messages:
        out.confirmed[str(message.get("phone"))] += 1
    return out


async def wait_complete(
    dsn: str, vendor_url: str, acked: list[Delivery], limit_s: float
) -> tuple[Tally, float | None]:
    """Poll until nothing is missing; the seconds it took (None: still missing at the limit)."""
    ids = [d.order_id for d in acked]
    started = time.monotonic()
    while True:
        now = await tally(dsn, vendor_url, ids)
        if not any(now.missing(acked).values()):
            return now, time.monotonic() - started
        if time.monotonic() - started > limit_s:
            return now, None
        await asyncio.sleep(1.0)
