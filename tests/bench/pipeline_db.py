"""The pipeline bench's reads of what the workers did, straight from PostgreSQL."""

from __future__ import annotations

import asyncio
import time

import asyncpg

from tests.bench.pipeline_load import Posted


async def taken_in(dsn: str) -> list[str]:
    conn = await asyncpg.connect(dsn)
    try:
        rows = await conn.fetch(
            "SELECT order_id FROM orders WHERE order_id LIKE 'ILB%' OR order_id LIKE 'ILP%'"
        )
        return [r["order_id"] for r in rows]
    finally:
        await conn.close()


async def wait_sent(dsn: str, ids: list[str], limit_s: float) -> int:
    """Until every order's confirmation is sent (or the limit passes); the number sent.

    The poll must not compete with the workers it waits for: the join over every id (30,000
    of them after a full intake) took a third of a core at two polls a second. So it counts
    all sent rows first (the database holds the bench's orders only), once a second, and
    checks the ids themselves only once that count could cover them.
    """
    conn = await asyncpg.connect(dsn)
    try:
        deadline = time.monotonic() + limit_s
        sent = 0
        while time.monotonic() < deadline:
            total = await conn.fetchval(
                "SELECT count(*) FROM notifications WHERE sent_at IS NOT NULL"
            )
            if total >= len(ids):
                sent = await conn.fetchval(
                    "SELECT count(*) FROM notifications n JOIN orders o ON o.id = n.order_uuid "
                    "WHERE o.order_id = ANY($1::text[]) AND n.sent_at IS NOT NULL",
                    ids,
                )
                if sent >= len(ids):
                    break
            await asyncio.sleep(1.0)
        return int(sent)
    finally:
        await conn.close()


async def drain_window(dsn: str, ids: list[str]) -> tuple[float, int]:
    """Seconds from the first sync attempt to the last confirmation sent, and the jobs done."""
    conn = await asyncpg.connect(dsn)
    try:
        row = await conn.fetchrow(
            "SELECT min(s.created_at) AS first, max(n.sent_at) AS last, count(n.sent_at) AS sent,"
            " count(s.synced) FILTER (WHERE s.synced) AS synced"
            " FROM orders o JOIN contact_syncs s ON s.order_uuid = o.id"
            " LEFT JOIN notifications n ON n.order_uuid = o.id"
            " WHERE o.order_id = ANY($1::text[])",
            ids,
        )
        return (row["last"] - row["first"]).total_seconds(), int(row["sent"]) + int(row["synced"])
    finally:
        await conn.close()


async def e2e_latencies(dsn: str, posted: Posted) -> list[float]:
    conn = await asyncpg.connect(dsn)
    try:
        rows = await conn.fetch(
            "SELECT o.order_id, extract(epoch FROM n.sent_at) AS sent FROM orders o"
            " JOIN notifications n ON n.order_uuid = o.id WHERE o.order_id = ANY($1::text[])",
            list(posted.sent_at),
        )
        return [(float(r["sent"]) - posted.sent_at[r["order_id"]]) * 1000 for r in rows]
    finally:
        await conn.close()
