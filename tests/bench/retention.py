"""`python -m tests.bench.retention` (`make bench-retention`): purging 1,000,000 expired rows.

Seeds `webhook_payloads` (the table holding raw order bodies) in a throwaway PostgreSQL database
with one INSERT ... SELECT over generate_series: BENCH_RETENTION_ROWS expired rows (31 to 400
days old, bodies of about 600 bytes like the storefront's) and BENCH_RETENTION_KEEP young ones,
then runs the product's retention (`infrastructure.db.retention.prune`, the statement the
periodic runner sends) and prints rows/s, the number of DELETEs and the longest one: how long a
batch holds its row locks. Knobs: BENCH_RETENTION_ROWS (1000000), BENCH_RETENTION_KEEP (100000),
BENCH_RETENTION_BATCH (1000, the default of VISAPI_RETENTION_BATCH).
"""

from __future__ import annotations

import asyncio
import os
import statistics
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
from sqlalchemy import event

from infrastructure.db.engine import create_engine
from infrastructure.db.retention import prune
from tests.bench.services import BenchDatabase, bench_database

ROWS = int(os.environ.get("BENCH_RETENTION_ROWS", "1000000"))
KEEP = int(os.environ.get("BENCH_RETENTION_KEEP", "100000"))
BATCH = int(os.environ.get("BENCH_RETENTION_BATCH", "1000"))
WINDOW_DAYS = 30

# Expired rows spread over 31..400 days ago, young ones over the last 29 days; the body is a
# storefront-like order (names, passport, phone) so that the heap and TOAST pages are realistic.
SEED = """
INSERT INTO webhook_payloads (id, source, external_order_id, idempotency_key, status, order_uuid,
                              body, received_at)
SELECT gen_random_uuid(), 'vizi', 'IL' || (250000 + i) || 'GB07', md5(i::text), 'accepted',
       gen_random_uuid(),
       jsonb_build_object(
         'order', jsonb_build_object('id', 'IL' || (250000 + i) || 'GB07', 'branch', 'il',
                                     'amount', 165 + i % 300, 'currency', 'ILS'),
         'form', jsonb_build_object(
           'country', 'uk',
           'client', jsonb_build_object('name', 'Avi Cohen ' || i, 'email',
                                        'avi' || i || '@example.com',
                                        'phone', '+97254' || lpad((i % 10000000)::text, 7, '0')),
           'applicants', jsonb_build_array(jsonb_build_object(
             'name', 'Avi Cohen ' || i, 'passport', 'A' || lpad(i::text, 8, '0'),
             'birthDate', '1980-01-01', 'nationality', 'IL')),
           'product', jsonb_build_object('country', 'uk', 'docType', 'eta',
                                         'validity', '2_years', 'wait', 3))),
       now() - make_interval(secs => $3 * 86400.0)
             - make_interval(secs => (i % $2) * 86400.0 * $4 / GREATEST($2, 1))
FROM generate_series(1, $1) AS i
"""


async def seed(db: BenchDatabase) -> float:
    conn = await asyncpg.connect(db.dsn, timeout=10)
    try:
        start = time.perf_counter()
        # Expired: 31 + (0..369) days ago; young: (0..28) days ago, one day from the edge.
        await conn.execute(SEED, ROWS, ROWS, 31, 369, timeout=1800)
        await conn.execute(SEED, KEEP, KEEP, 0, 28, timeout=600)
        await conn.execute("VACUUM ANALYZE webhook_payloads", timeout=900)
        return time.perf_counter() - start
    finally:
        await conn.close()


async def purge(db: BenchDatabase) -> tuple[int, float, list[float]]:
    """Rows deleted, seconds taken, and each DELETE's duration (ms)."""
    engine = create_engine(db.url, pool_size=2)
    durations: list[float] = []
    started: dict[int, float] = {}

    @event.listens_for(engine.sync_engine, "before_cursor_execute")
    def before(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        started[id(conn)] = time.perf_counter()

    @event.listens_for(engine.sync_engine, "after_cursor_execute")
    def after(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        if statement.lstrip().upper().startswith("DELETE"):
            durations.append((time.perf_counter() - started.pop(id(conn))) * 1000)

    try:
        cutoff = datetime.now(UTC) - timedelta(days=WINDOW_DAYS)
        start = time.perf_counter()
        deleted = await prune(engine, "webhook_payloads", cutoff, BATCH)
        return deleted, time.perf_counter() - start, durations
    finally:
        await engine.dispose()


async def remaining(db: BenchDatabase) -> int:
    conn = await asyncpg.connect(db.dsn, timeout=10)
    try:
        return int(await conn.fetchval("SELECT count(*) FROM webhook_payloads"))
    finally:
        await conn.close()


async def run() -> int:
    async with bench_database() as db:
        print(f"bench-retention: seeding {ROWS:,} expired + {KEEP:,} young rows in {db.name}")
        took = await seed(db)
        print(f"bench-retention: seeded and analyzed in {took:.1f} s", flush=True)
        deleted, seconds, durations = await purge(db)
        left = await remaining(db)
    if deleted != ROWS or left != KEEP:
        print(f"bench-retention: FAILED: deleted {deleted:,} (want {ROWS:,}), {left:,} left")
        return 1
    if len(durations) > 1:
        cuts = statistics.quantiles(durations, n=100, method="inclusive")
    else:
        cuts = durations * 99
    print()
    print(f"webhook_payloads retention on PostgreSQL, batch {BATCH}, {KEEP:,} young rows kept:")
    print()
    print("| rows purged | seconds | rows/s | DELETEs | p50 ms | p99 ms | max ms |")
    print("|---:|---:|---:|---:|---:|---:|---:|")
    print(
        f"| {deleted:,} | {seconds:.2f} | {deleted / seconds:,.0f} | {len(durations)} | "
        f"{cuts[49]:.1f} | {cuts[98]:.1f} | {max(durations):.1f} |"
    )
    return 0


def main() -> int:
    return asyncio.run(run())


if __name__ == "__main__":
    raise SystemExit(main())
