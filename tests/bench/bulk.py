"""`make bench-bulk`: markOrdersProcessedWhere over BENCH_BULK_ORDERS (100,000) unprocessed
orders on PostgreSQL + Redis, run by one `visapi worker --queues bulk` beside `serve --workers
2`: wall time from the mutation to FINISHED, statements (the UPDATEs on orders, read from
pg_stat_statements when it is loaded, else counted as the batches), rows/s; and the API's
`order(id)` p50/p95 meanwhile (BENCH_BULK_READERS clients reading in a loop), beside the same
reads with the bulk queue idle, in the same run: the bulk queue must not starve interactive reads.
The report goes to BENCH_BULK_REPORT (default /tmp/visapi-bench-bulk.md).
"""

from __future__ import annotations

import asyncio
import os
import random
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import asyncpg
import httpx

from domain.orders.bulk import BATCH
from tests.bench import servers
from tests.bench.credentials import bench_auth, tree_line
from tests.bench.pipeline import start_process
from tests.bench.seed import seed_orders
from tests.bench.services import REDIS_URL, bench_database, redis_namespace

ROOT = Path(__file__).resolve().parents[2]
VISAPI = Path(sys.executable).parent / "visapi"
ORDERS = int(os.environ.get("BENCH_BULK_ORDERS", "100000"))
READERS = int(os.environ.get("BENCH_BULK_READERS", "8"))
IDLE_S = float(os.environ.get("BENCH_BULK_IDLE_S", "10"))
REPORT = Path(os.environ.get("BENCH_BULK_REPORT", "/tmp/visapi-bench-bulk.md"))
START = "mutation { markOrdersProcessedWhere(filter: {unprocessed: true}) { id total } }"
READ = "query($id: ID!) { bulkOperation(id: $id) { status done total } }"
ORDER = "query($id: ID) { order(id: $id) { id orderId amount processedAt } }"


async def reads(base: str, key: str, ids: list[str], stop: asyncio.Event) -> list[float]:
    """`order(id)` latencies (s) from READERS clients until `stop`."""
    latencies: list[float] = []

    async def reader() -> None:
        async with httpx.AsyncClient(base_url=base, timeout=10, headers={"X-API-Key": key}) as c:
            while not stop.is_set():
                started = time.perf_counter()
                answer = await c.post(
                    "/graphql", json={"query": ORDER, "variables": {"id": random.choice(ids)}}
                )
                latencies.append(time.perf_counter() - started)
                if answer.status_code != 200:
                    raise RuntimeError(f"order(id): {answer.status_code} {answer.text[:200]}")

    await asyncio.gather(*(reader() for _ in range(READERS)))
    return latencies


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000


async def updates_on_orders(dsn: str) -> int | None:
    conn = await asyncpg.connect(dsn)
    try:
        return int(
            await conn.fetchval(
                "SELECT coalesce(sum(calls), 0) FROM pg_stat_statements"
                " WHERE query ILIKE 'UPDATE orders SET processed_at%'"
            )
        )
    except asyncpg.PostgresError:
        return None  # the extension is not loaded here
    finally:
        await conn.close()


async def bench(tmp: Path) -> str:
    async with bench_database() as db, redis_namespace() as namespace:
        auth = await bench_auth(db, namespace, VISAPI)
        assert auth.key is not None
        seeded = await seed_orders(db.url.replace("+asyncpg", ""), ORDERS)
        ids = seeded.sample_ids
        env = {
            **auth.settings,
            "VISAPI_DATABASE_URL": db.url,
            "VISAPI_REDIS_URL": REDIS_URL,
            "VISAPI_REDIS_NAMESPACE": namespace,
            "VISAPI_LOG_LEVEL": "WARNING",
        }
        api = servers.start("product", 2, env, tmp / "api.log")
        worker = start_process(
            [str(VISAPI), "worker", "--queues", "bulk", "--threads", "1"], env, tmp / "worker.log"
        )
        try:
            await servers.wait_ready(api, "/api/v1/healthz", None, 2)
            base = api.url("")
            stop = asyncio.Event()
            idle_task = asyncio.create_task(reads(base, auth.key, ids, stop))
            await asyncio.sleep(IDLE_S)
            stop.set()
            idle = await idle_task
            async with httpx.AsyncClient(base_url=base, timeout=60) as client:
                started = time.perf_counter()
                answer = await client.post(
                    "/graphql", json={"query": START}, headers={"X-API-Key": auth.key}
                )
                op: dict[str, Any] | None = (answer.json().get("data") or {}).get(
                    "markOrdersProcessedWhere"
                )
                if op is None:
                    raise RuntimeError(f"markOrdersProcessedWhere: {answer.text[:500]}")
                stop = asyncio.Event()
                busy_task = asyncio.create_task(reads(base, auth.key, ids, stop))
                while True:
                    read = await client.post(
                        "/graphql",
                        json={"query": READ, "variables": {"id": op["id"]}},
                        headers={"X-API-Key": auth.key},
                    )
                    found = (read.json().get("data") or {}).get("bulkOperation")
                    if found is None:
                        raise RuntimeError(f"bulkOperation: {read.text[:300]}")
                    if found["status"] != "RUNNING":
                        break
                    await asyncio.sleep(0.2)
                wall = time.perf_counter() - started
                stop.set()
                busy = await busy_task
            statements = await updates_on_orders(db.url.replace("+asyncpg", ""))
        finally:
            servers.stop(worker)
            servers.stop(api)
    batches = -(-op["total"] // BATCH)
    lines = [
        "# bench-bulk",
        "",
        tree_line(ROOT),
        f"`serve --workers 2` + one `visapi worker --queues bulk --threads 1`, PostgreSQL +"
        f" Redis; {READERS} clients reading `order(id)` in a loop",
        "",
        "| measure | figure |",
        "|---|---:|",
        f"| orders matched (fixed at the start) | {op['total']:,} |",
        f"| wall time, mutation to FINISHED | {wall:.1f} s |",
        f"| rows/s | {op['total'] / wall:,.0f} |",
        f"| UPDATE statements on orders | {statements if statements is not None else 'n/a'}"
        f" (batches of {BATCH}: {batches:,}) |",
        f"| order(id) p50 / p95, bulk queue idle | {pct(idle, 0.5):.1f} / {pct(idle, 0.95):.1f} ms"
        f" ({len(idle) / IDLE_S:,.0f} reads/s) |",
        f"| order(id) p50 / p95, while it runs | {pct(busy, 0.5):.1f} / {pct(busy, 0.95):.1f} ms"
        f" ({len(busy) / wall:,.0f} reads/s) |",
    ]
    return "\n".join(lines) + "\n"


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="visapi-bench-bulk-") as folder:
        text = asyncio.run(bench(Path(folder)))
    REPORT.write_text(text)
    print(text)
    print(f"bench-bulk: report in {REPORT}")


if __name__ == "__main__":
    main()
