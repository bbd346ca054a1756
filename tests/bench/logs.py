"""`python -m tests.bench.logs` (`make bench-logs`): the `logs` query over 1,000,000 log rows.

Seeds the rows in PostgreSQL with one INSERT ... SELECT over generate_series (server side, no
round trip per row), starts the real server (`visapi serve`, production mode, one worker), and
sends each GraphQL query sequentially over one keep-alive connection: p50/p95/p99 per filter.
Knobs: BENCH_LOG_ROWS (1000000), BENCH_LOG_REQUESTS (200 per row), BENCH_LOG_WARMUP (20).
"""

from __future__ import annotations

import asyncio
import os
import random
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import asyncpg
import httpx

from tests.bench import servers
from tests.bench.credentials import bench_auth
from tests.bench.services import REDIS_URL, BenchDatabase, bench_database, redis_namespace

ROWS = int(os.environ.get("BENCH_LOG_ROWS", "1000000"))
REQUESTS = int(os.environ.get("BENCH_LOG_REQUESTS", "200"))
WARMUP = int(os.environ.get("BENCH_LOG_WARMUP", "20"))
SPAN_DAYS = 60  # rows spread evenly over the last 60 days, newest now

# Messages: a few templates with numbers; 'quarantine' is rare (1 in 1000) on purpose.
SEED = f"""
INSERT INTO logs (id, level, message, metadata, correlation_id, workflow_id, job_id,
                  pii_redacted, created_at)
SELECT gen_random_uuid(),
       CASE WHEN i % 20 = 0 THEN 'error' WHEN i % 10 = 1 THEN 'warn'
            WHEN i % 7 = 2 THEN 'debug' ELSE 'info' END,
       CASE i % 1000
         WHEN 0 THEN 'payment ' || i || ' held in quarantine'
         ELSE (ARRAY['order IL' || (250000 + i % 90000) || 'GB' || (i % 97) || ' received',
                     'contact sync for order ' || i || ' succeeded',
                     'contact sync failed: CRM answered 503 (attempt ' || (i % 5) || ')',
                     'whatsapp confirmation sent to [PHONE]',
                     'workflow step ' || (i % 12) || ' retried after timeout',
                     'api key vk_' || substr(md5(i::text), 1, 16) || ' used'])[i % 6 + 1]
       END,
       jsonb_build_object('n', i),
       substr(md5((i / 5)::text), 1, 32),
       CASE WHEN i % 10 = 3 THEN md5('wf' || (i % 200))::uuid END,
       CASE WHEN i % 3 = 0 THEN 'job-' || (i / 30) END,
       i % 10 = 4,
       now() - make_interval(secs => i * {SPAN_DAYS * 86400.0} / {ROWS})
FROM generate_series(1, {ROWS}) AS i
"""

LOGS = """query($filter: LogFilter, $first: Int, $after: String) {
  logs(filter: $filter, first: $first, after: $after) {
    pageInfo { hasNextPage endCursor }
    edges { node { id level message metadata correlationId workflowId jobId createdAt } } } }"""
COUNT = "query($filter: LogFilter) { logs(filter: $filter, first: 1) { totalCount } }"
STATS = "{ logStats { total byLevel { level count } withPii last24h } }"

# What SqlLogReads.stats sends (one scan of the table).
STATS_SQL = """SELECT level, count(*), sum(CASE WHEN pii_redacted THEN 1 ELSE 0 END),
  sum(CASE WHEN created_at >= now() - interval '24 hours' THEN 1 ELSE 0 END)
  FROM logs GROUP BY level"""

Variables = Callable[[random.Random], dict[str, Any]]


async def seed(db: BenchDatabase) -> tuple[float, dict[str, list[str]], bool]:
    """Rows in, analyzed; some existing ids to filter by; whether the trigram index exists."""
    conn = await asyncpg.connect(db.dsn, timeout=10)
    try:
        start = time.perf_counter()
        await conn.execute(SEED, timeout=900)
        await conn.execute("VACUUM ANALYZE logs", timeout=900)
        took = time.perf_counter() - start
        samples = {
            "correlation_id": "SELECT correlation_id FROM logs TABLESAMPLE SYSTEM (1) LIMIT 200",
            "job_id": "SELECT job_id FROM logs TABLESAMPLE SYSTEM (1) WHERE job_id IS NOT NULL"
            " LIMIT 200",
            "workflow_id": "SELECT DISTINCT workflow_id::text FROM logs WHERE workflow_id IS NOT"
            " NULL LIMIT 200",
        }
        values = {k: [r[0] for r in await conn.fetch(q)] for k, q in samples.items()}
        trigram = await conn.fetchval(
            "SELECT count(*) FROM pg_indexes WHERE indexname = 'ix_logs_message_trgm'"
        )
        values["stats_ms"] = [f"{await _stats_ms(conn):.1f}"]
    finally:
        await conn.close()
    return took, values, bool(trigram)


async def _stats_ms(conn: asyncpg.Connection) -> float:
    """The median of 5 runs of the statement behind a logStats cache miss."""
    timings = []
    for _ in range(5):
        start = time.perf_counter()
        await conn.fetch(STATS_SQL)
        timings.append((time.perf_counter() - start) * 1000)
    return statistics.median(timings)


def hour_window(rng: random.Random) -> dict[str, Any]:
    hours_ago = rng.uniform(1, SPAN_DAYS * 24 - 1)
    end = time.time() - hours_ago * 3600
    fmt = "%Y-%m-%dT%H:%M:%SZ"
    return {
        "from": time.strftime(fmt, time.gmtime(end - 3600)),
        "to": time.strftime(fmt, time.gmtime(end)),
    }


def rows_of(values: dict[str, list[str]]) -> list[tuple[str, str, Variables]]:
    """(name, document, variables per request) of each measured row."""
    pick = values.__getitem__

    def week(rng: random.Random) -> dict[str, Any]:
        return {"from": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() - 7 * 86400))}

    return [
        ("no filter (newest 20)", LOGS, lambda r: {}),
        ("level ERROR", LOGS, lambda r: {"filter": {"level": "ERROR"}}),
        ("workflowId", LOGS, lambda r: {"filter": {"workflowId": r.choice(pick("workflow_id"))}}),
        ("jobId", LOGS, lambda r: {"filter": {"jobId": r.choice(pick("job_id"))}}),
        (
            "correlationId",
            LOGS,
            lambda r: {"filter": {"correlationId": r.choice(pick("correlation_id"))}},
        ),
        ("time range (1 h window)", LOGS, lambda r: {"filter": hour_window(r)}),
        ("text common ('sync')", LOGS, lambda r: {"filter": {"text": "sync"}}),
        ("text rare ('quarantine')", LOGS, lambda r: {"filter": {"text": "quarantine"}}),
        (
            "text selective (an order id)",
            LOGS,
            lambda r: {"filter": {"text": f"IL{250000 + 6 * r.randrange(15000)}GB"}},
        ),
        (
            "level WARN + text 'contact sync' + last 7 days",
            LOGS,
            lambda r: {"filter": {"level": "WARN", "text": "contact sync", **week(r)}},
        ),
        (
            "level ERROR + 1 h window + text 'crm'",
            LOGS,
            lambda r: {"filter": {"level": "ERROR", "text": "crm", **hour_window(r)}},
        ),
        ("totalCount, level ERROR", COUNT, lambda r: {"filter": {"level": "ERROR"}}),
        ("logStats (cached 30 s: a hit)", STATS, lambda r: {}),
    ]


async def measure(
    client: httpx.AsyncClient, url: str, document: str, variables: Variables, n: int
) -> tuple[list[float], int]:
    """Latencies (ms) of `n` sequential requests and how many edges the last one had."""
    rng = random.Random(7)
    timings: list[float] = []
    edges = 0
    for _ in range(n):
        body = {"query": document, "variables": variables(rng)}
        start = time.perf_counter()
        response = await client.post(url, json=body)
        timings.append((time.perf_counter() - start) * 1000)
        data = response.json()
        if response.status_code != 200 or data.get("errors"):
            raise RuntimeError(f"{response.status_code}: {str(data)[:300]}")
        edges = len((data["data"].get("logs") or {}).get("edges") or [])
    return timings, edges


def pct(values: list[float], q: int) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[q - 1] if len(values) > 1 else 0


async def run() -> int:
    async with redis_namespace() as namespace, bench_database() as db:
        auth = await bench_auth(db, namespace, servers.BIN / "visapi")
        print(f"bench-logs: seeding {ROWS:,} log rows in {db.name}", flush=True)
        took, values, trigram = await seed(db)
        print(f"bench-logs: seeded and analyzed in {took:.1f} s; pg_trgm index: {trigram}")
        print(f"bench-logs: logStats cache miss (its SQL, median of 5): {values['stats_ms'][0]} ms")
        env = {
            "VISAPI_DATABASE_URL": db.url,
            "VISAPI_REDIS_URL": REDIS_URL,
            "VISAPI_REDIS_NAMESPACE": namespace,
            "VISAPI_LOG_LEVEL": "WARNING",
            **auth.settings,
        }
        with tempfile.TemporaryDirectory(prefix="visapi-bench-logs-") as tmp:
            server = servers.start("product", 1, env, Path(tmp) / "serve.log")
            try:
                # One worker runs in the server process itself (no supervisor): a group of 1.
                await servers.wait_ready(server, "/api/v1/healthz", None, 0)
                results = await _rows(server, auth.headers, values)
            finally:
                servers.stop(server)
    print()
    print(f"`logs` over {ROWS:,} rows, {REQUESTS} sequential requests per row after {WARMUP}")
    print("warm-up, one keep-alive connection, `visapi serve` (1 worker, PostgreSQL, Redis):")
    print()
    print("| query | p50 ms | p95 ms | p99 ms | max ms | edges |")
    print("|---|---:|---:|---:|---:|---:|")
    for name, timings, edges in results:
        print(
            f"| {name} | {pct(timings, 50):.1f} | {pct(timings, 95):.1f} | "
            f"{pct(timings, 99):.1f} | {max(timings):.1f} | {edges} |"
        )
    return 0


async def _rows(
    server: servers.Server, headers: dict[str, str], values: dict[str, list[str]]
) -> list[tuple[str, list[float], int]]:
    url = server.url("/graphql")
    results = []
    async with httpx.AsyncClient(headers=headers, timeout=60) as client:
        for name, document, variables in rows_of(values):
            await measure(client, url, document, variables, WARMUP)
            timings, edges = await measure(client, url, document, variables, REQUESTS)
            results.append((name, timings, edges))
            print(f"bench-logs: {name}: p95 {pct(timings, 95):.1f} ms", flush=True)
    return results


def main() -> int:
    return asyncio.run(run())


if __name__ == "__main__":
    raise SystemExit(main())
