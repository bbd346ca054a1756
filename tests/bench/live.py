"""`make bench-live`: subscriptions under load, on `visapi serve --workers 2` with PostgreSQL and
Redis (no job worker: only the intake's own event is delivered).

1. BENCH_LIVE_SUBSCRIBERS (200) WebSocket clients subscribe to `orderEvents` (the event's type,
   time and the order's id), spread by the kernel over both API processes; orders are taken in
   with createOrder at BENCH_LIVE_RATE (10/s) for BENCH_LIVE_S (30 s): 2,000 deliveries a
   second. Latency is receipt minus the event's `occurredAt` (stamped before the intake's commit,
   so it slightly overstates commit-to-receipt), p50/p95/p99 over every delivery; dropped is
   deliveries expected minus received, beside the servers' own
   `visapi_live_events_dropped_total`.
2. RSS of each API process before and with BENCH_LIVE_IDLE (1,000) idle subscribers (one
   subscription each, the per-caller cap raised for the run).
The report goes to BENCH_LIVE_REPORT (default /tmp/visapi-bench-live.md).
"""

from __future__ import annotations

import asyncio
import json
import os
import resource
import statistics
import sys
import tempfile
import time
import uuid
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
import websockets

from tests.bench import servers
from tests.bench.credentials import bench_auth, tree_line
from tests.bench.measure import group
from tests.bench.services import REDIS_URL, bench_database, redis_namespace

ROOT = Path(__file__).resolve().parents[2]
VISAPI = Path(sys.executable).parent / "visapi"
SUBSCRIBERS = int(os.environ.get("BENCH_LIVE_SUBSCRIBERS", "200"))
RATE = float(os.environ.get("BENCH_LIVE_RATE", "10"))
SECONDS = float(os.environ.get("BENCH_LIVE_S", "30"))
IDLE = int(os.environ.get("BENCH_LIVE_IDLE", "1000"))
WORKERS = int(os.environ.get("BENCH_WORKERS", "2"))
REPORT = Path(os.environ.get("BENCH_LIVE_REPORT", "/tmp/visapi-bench-live.md"))
FIXTURE = ROOT / "tests" / "fixtures" / "vizi-orders" / "il-uk-eta.json"
EVENTS = "subscription { orderEvents { type occurredAt order { orderId } } }"
CREATE = "mutation($p: JSON!) { createOrder(payload: $p) { __typename } }"


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def api_processes(server: servers.Server) -> list[int]:
    """uvicorn's worker processes (not its supervisor, nor multiprocessing's helpers)."""
    return sorted(
        s.pid
        for s in group(server.pgid)
        if s.pid != server.proc.pid and b"spawn_main" in Path(f"/proc/{s.pid}/cmdline").read_bytes()
    )


class Subscriber:
    def __init__(self, url: str, key: str) -> None:
        self.url, self.key = url, key
        self.received: list[tuple[str, float]] = []  # (orderId, latency s)
        self.ws: Any = None

    async def open(self, query: str) -> None:
        self.ws = await websockets.connect(
            self.url,
            subprotocols=["graphql-transport-ws"],
            max_queue=None,  # type: ignore[list-item]
        )
        await self.ws.send(
            json.dumps({"type": "connection_init", "payload": {"X-API-Key": self.key}})
        )
        ack = json.loads(await self.ws.recv())
        if ack["type"] != "connection_ack":
            raise RuntimeError(f"not acknowledged: {ack}")
        await self.ws.send(
            json.dumps({"id": "1", "type": "subscribe", "payload": {"query": query}})
        )

    async def listen(self) -> None:
        async for raw in self.ws:
            now = time.time()
            message = json.loads(raw)
            if message.get("type") != "next":
                continue
            event = message["payload"]["data"]["orderEvents"]
            at = datetime.fromisoformat(event["occurredAt"]).timestamp()
            self.received.append((event["order"]["orderId"], now - at))


async def active(base: str, count: int, limit_s: float = 120) -> None:
    wanted = f'visapi_live_subscriptions{{field="orderEvents"}} {float(count)}'
    deadline = time.monotonic() + limit_s
    async with httpx.AsyncClient(timeout=5) as client:
        while wanted not in (await client.get(f"{base}/metrics")).text:
            if time.monotonic() > deadline:
                raise TimeoutError(f"{count} subscriptions never became active")
            await asyncio.sleep(0.2)


def body(order_id: str) -> dict[str, Any]:
    payload: dict[str, Any] = json.loads(FIXTURE.read_text())
    payload["order"]["id"] = order_id
    return payload


async def take_in(base: str, key: str, count: int) -> list[str]:
    """`count` orders at RATE a second; their ids."""
    ids = [f"IL{uuid.uuid4().hex[:12].upper()}" for _ in range(count)]
    started = time.monotonic()
    async with httpx.AsyncClient(base_url=base, timeout=10, headers={"X-API-Key": key}) as client:
        for n, order_id in enumerate(ids):
            await asyncio.sleep(max(0.0, started + n / RATE - time.monotonic()))
            answer = await client.post(
                "/graphql", json={"query": CREATE, "variables": {"p": body(order_id)}}
            )
            if '"OrderAccepted"' not in answer.text:
                raise RuntimeError(f"createOrder: {answer.text[:300]}")
    return ids


async def stragglers(clients: list[Subscriber], expected: int, limit_s: float) -> None:
    """Until every expected delivery has come, or `limit_s` has passed."""
    deadline = time.monotonic() + limit_s
    while time.monotonic() < deadline:
        if sum(len(c.received) for c in clients) >= expected:
            return
        await asyncio.sleep(0.2)


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


async def dropped_total(base: str) -> float:
    async with httpx.AsyncClient(timeout=5) as client:
        text = (await client.get(f"{base}/metrics")).text
    return sum(
        float(line.rsplit(" ", 1)[1])
        for line in text.splitlines()
        if line.startswith("visapi_live_events_dropped_total")
    )


async def deliveries(base: str, key: str) -> dict[str, Any]:
    url = base.replace("http://", "ws://") + "/graphql"
    clients = [Subscriber(url, key) for _ in range(SUBSCRIBERS)]
    for chunk in range(0, SUBSCRIBERS, 50):
        await asyncio.gather(*(c.open(EVENTS) for c in clients[chunk : chunk + 50]))
    await active(base, SUBSCRIBERS)
    listeners = [asyncio.create_task(c.listen()) for c in clients]
    ids = await take_in(base, key, int(RATE * SECONDS))
    expected = len(ids) * SUBSCRIBERS
    await stragglers(clients, expected, limit_s=15)
    for task in listeners:
        task.cancel()
    await asyncio.gather(*(c.ws.close() for c in clients), return_exceptions=True)
    latencies = [lat for c in clients for _, lat in c.received]
    wanted = set(ids)
    received = sum(1 for c in clients for order_id, _ in c.received if order_id in wanted)
    return {
        "orders": len(ids),
        "expected": expected,
        "received": received,
        "p50": percentile(latencies, 0.50) * 1000,
        "p95": percentile(latencies, 0.95) * 1000,
        "p99": percentile(latencies, 0.99) * 1000,
        "mean": statistics.fmean(latencies) * 1000,
        "server_dropped": await dropped_total(base),
    }


async def idle_rss(server: servers.Server, base: str, key: str) -> dict[int, tuple[float, float]]:
    pids = api_processes(server)
    before = {pid: rss_mb(pid) for pid in pids}
    url = base.replace("http://", "ws://") + "/graphql"
    clients = [Subscriber(url, key) for _ in range(IDLE)]
    for chunk in range(0, IDLE, 100):
        await asyncio.gather(*(c.open(EVENTS) for c in clients[chunk : chunk + 100]))
    await active(base, IDLE)
    await asyncio.sleep(2)
    after = {pid: rss_mb(pid) for pid in pids}
    await asyncio.gather(*(c.ws.close() for c in clients), return_exceptions=True)
    return {pid: (before[pid], after[pid]) for pid in pids}


async def bench(tmp: Path) -> str:
    async with bench_database() as db, redis_namespace() as namespace:
        auth = await bench_auth(db, namespace, VISAPI)
        assert auth.key is not None
        env = {
            **auth.settings,
            "VISAPI_DATABASE_URL": db.url,
            "VISAPI_REDIS_URL": REDIS_URL,
            "VISAPI_REDIS_NAMESPACE": namespace,
            "VISAPI_LOG_LEVEL": "WARNING",
            "VISAPI_SUBSCRIPTIONS_PER_CALLER": str(IDLE + SUBSCRIBERS),
        }
        api = servers.start("product", WORKERS, env, tmp / "api.log")
        try:
            await servers.wait_ready(api, "/api/v1/healthz", None, WORKERS)
            base = api.url("")
            print(f"bench-live: {SUBSCRIBERS} subscribers, {RATE:g} orders/s for {SECONDS:g} s")
            sent = await deliveries(base, auth.key)
            print(f"bench-live: RSS with {IDLE} idle subscribers")
            rss = await idle_rss(api, base, auth.key)
        finally:
            servers.stop(api)
    return report(sent, rss, auth.describe())


def report(sent: dict[str, Any], rss: dict[int, tuple[float, float]], auth: str) -> str:
    rate = sent["expected"] / SECONDS
    missing = sent["expected"] - sent["received"]
    grown = [after - before for before, after in rss.values()]
    lines = [
        "# bench-live",
        "",
        tree_line(ROOT),
        f"`visapi serve --workers {WORKERS}` on PostgreSQL + Redis; {auth}",
        "",
        "| measure | figure | target |",
        "|---|---:|---|",
        f"| subscribers | {SUBSCRIBERS} | 200 |",
        f"| orders taken in | {sent['orders']} at {RATE:g}/s | 10/s |",
        f"| deliveries expected | {sent['expected']:,} ({rate:,.0f}/s) | 2,000/s |",
        f"| commit → receipt p50 | {sent['p50']:.1f} ms | |",
        f"| commit → receipt p95 | {sent['p95']:.1f} ms | < 100 ms: "
        f"{'PASS' if sent['p95'] < 100 else 'MISS'} |",
        f"| commit → receipt p99 | {sent['p99']:.1f} ms | |",
        f"| events dropped (expected - received) | {missing:,} | 0: "
        f"{'PASS' if missing == 0 else 'MISS'} |",
        f"| subscribers dropped by the servers | {sent['server_dropped']:.0f} | 0 |",
        *(
            f"| RSS of API process {pid}: idle → {IDLE} idle subscribers | "
            f"{before:.1f} → {after:.1f} MB (+{after - before:.1f}) | < +50 MB |"
            for pid, (before, after) in rss.items()
        ),
        f"| RSS growth, largest | +{max(grown):.1f} MB | < 50 MB: "
        f"{'PASS' if max(grown) < 50 else 'MISS'} |",
    ]
    return "\n".join(lines) + "\n"


def main() -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, min(hard, 65536)), hard))
    with tempfile.TemporaryDirectory(prefix="visapi-bench-live-") as folder:
        text = asyncio.run(bench(Path(folder)))
    REPORT.write_text(text)
    print(text)
    print(f"bench-live: report in {REPORT}")


if __name__ == "__main__":
    main()
