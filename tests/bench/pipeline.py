"""`make bench-pipeline`: orders through intake → contact sync → confirmation, against the fake
vendor, with real API and worker processes on PostgreSQL and Redis.

Four measurements, each beside what it is compared with in the same run:
1. intake: wrk (tests/bench/wrk.lua) POSTs new il orders (own id and phone each) to the
   webhook for BENCH_PIPELINE_INTAKE_S (35 s: about 10,000 orders) over 50 connections,
   workers stopped (orders/s, p50/p95/p99);
2. drain: the workers start on the queued jobs; jobs/min from the first sync to the last
   confirmation (2 jobs per order), beside a no-op actor drained by the same worker setup
   (tests/bench/noop_worker.py: same broker, middleware, processes and threads);
3. end to end: at a steady 50 orders/s with the workers running, the time from POST to the
   confirmation recorded as sent (notifications.sent_at), p50/p95;
4. peak RSS of every worker process;
5. grouped execution (app/groups.py), before and after: BENCH_PIPELINE_GROUP_ORDERS more
   orders taken in with the workers stopped, drained by workers handling each job alone
   (VISAPI_JOB_GROUP_SIZE=1), then as many again drained by workers grouping (the default).
The report goes to BENCH_PIPELINE_REPORT (default /tmp/visapi-bench-pipeline.md).
"""

from __future__ import annotations

import asyncio
import os
import statistics
import subprocess
import sys
from pathlib import Path

from tests.bench import load, servers
from tests.bench.credentials import bench_auth, tree_line
from tests.bench.measure import peak_rss_mb
from tests.bench.pipeline_db import drain_window, e2e_latencies, taken_in, wait_sent
from tests.bench.pipeline_load import pct, post_all, post_paced, wrk_body
from tests.bench.services import REDIS_URL, bench_database, redis_namespace
from tests.bench.tools import ensure_tools
from visapi.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
VISAPI = Path(sys.executable).parent / "visapi"
WARMUP = int(os.environ.get("BENCH_PIPELINE_WARMUP", "300"))
WEBHOOK = "/api/v1/webhooks/vizi/orders"
INTAKE_S = float(os.environ.get("BENCH_PIPELINE_INTAKE_S", "35"))
# The intake target's rate: its p95 when the storefront sends that many orders a second.
PACED_RATE = float(os.environ.get("BENCH_PIPELINE_PACED_RATE", "300"))
PACED_S = float(os.environ.get("BENCH_PIPELINE_PACED_S", "15"))
CONNECTIONS = int(os.environ.get("BENCH_CONNECTIONS", "50"))
STEADY_RATE = float(os.environ.get("BENCH_PIPELINE_RATE", "50"))
STEADY_S = float(os.environ.get("BENCH_PIPELINE_STEADY_S", "30"))
WORKER_PROCESSES = int(os.environ.get("BENCH_WORKER_PROCESSES", "2"))
# The product's default unless set (visapi/settings.py).
WORKER_THREADS = int(os.environ.get("BENCH_WORKER_THREADS", str(Settings().worker_threads)))
API_WORKERS = int(os.environ.get("BENCH_WORKERS", "2"))
GROUP_ORDERS = int(os.environ.get("BENCH_PIPELINE_GROUP_ORDERS", "4000"))
DRAIN_LIMIT_S = float(os.environ.get("BENCH_PIPELINE_DRAIN_LIMIT_S", "600"))
REPORT = Path(os.environ.get("BENCH_PIPELINE_REPORT", "/tmp/visapi-bench-pipeline.md"))
TOKEN = "bench-cbb-token"


def start_process(argv: list[str], env: dict[str, str], log: Path) -> servers.Server:
    with log.open("wb") as out:
        proc = subprocess.Popen(
            argv,
            cwd=ROOT,
            env={**os.environ, **env, "PYTHONPATH": str(ROOT)},
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    return servers.Server(argv[1], 0, proc, log)


def noop_baseline(env: dict[str, str], jobs: int) -> float:
    """Jobs/min of the no-op actor through the same broker setup (tests/bench/noop_worker.py)."""
    argv = [sys.executable, "-m", "tests.bench.noop_worker", str(jobs), str(WORKER_PROCESSES)]
    done = subprocess.run(
        argv,
        cwd=ROOT,
        env={**os.environ, **env, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        timeout=DRAIN_LIMIT_S,
        check=False,
    )
    lines = done.stdout.strip().splitlines()
    if done.returncode != 0 or not lines:
        raise RuntimeError(f"no-op baseline failed:\n{done.stderr[-1500:]}")
    return float(lines[-1].split()[-1])


async def compare_drain(
    url: str,
    headers: dict[str, str],
    env: dict[str, str],
    tmp: Path,
    dsn: str,
    group_size: str | None,
    base: int,
) -> tuple[float, float, int]:
    """GROUP_ORDERS orders taken in with no worker running, then drained by fresh workers with
    VISAPI_JOB_GROUP_SIZE=`group_size` (None: the default): jobs/min, seconds, jobs."""
    # Ids and phones of their own (IL + 7 digits, 054 + the same 7: valid mobiles).
    ids = [f"IL{base + n}" for n in range(GROUP_ORDERS)]
    label = f"group size {group_size or 'default'}"
    print(f"bench: {GROUP_ORDERS} orders drained with {label}", flush=True)
    posted = await post_all(url, headers, ids, base, CONNECTIONS)
    if posted.errors:
        # Drained and counted without them; the API's log says why they failed.
        tail = (tmp / "api.log").read_text(errors="replace")[-3000:]
        print(f"bench: {len(posted.errors)} intake errors: {posted.errors[:3]}\n{tail}", flush=True)
        ids = posted.created
    worker_env = {**env, **({"VISAPI_JOB_GROUP_SIZE": group_size} if group_size else {})}
    argv = [str(VISAPI), "worker", "--processes", str(WORKER_PROCESSES)]
    workers = start_process(argv, worker_env, tmp / f"worker-{group_size or 'default'}.log")
    try:
        await wait_sent(dsn, ids, DRAIN_LIMIT_S)
    finally:
        servers.stop(workers)
    drain_s, jobs = await drain_window(dsn, ids)
    print(f"bench: {label}: {jobs} jobs in {drain_s:.1f} s", flush=True)
    return (jobs / drain_s * 60 if drain_s > 0 else float("nan")), drain_s, jobs


async def bench(tmp: Path) -> str:
    ensure_tools()  # wrk, from Debian when missing (a fresh machine has none)
    async with bench_database() as db, redis_namespace() as namespace:
        auth = await bench_auth(db, namespace, VISAPI)
        vendor_port = servers.free_port()
        vendor = start_process(
            [str(VISAPI), "fake-vendors", "--port", str(vendor_port), "--token", TOKEN],
            {},
            tmp / "vendor.log",
        )
        env = {
            **auth.settings,
            "VISAPI_DATABASE_URL": db.url,
            "VISAPI_REDIS_URL": REDIS_URL,
            "VISAPI_REDIS_NAMESPACE": namespace,
            "VISAPI_CBB_BASE_URL": f"http://127.0.0.1:{vendor_port}",
            "VISAPI_CBB_TOKEN": TOKEN,
            "VISAPI_LOG_LEVEL": "WARNING",
            "VISAPI_WORKER_THREADS": str(WORKER_THREADS),
        }
        api = servers.start("product", API_WORKERS, env, tmp / "api.log")
        workers: servers.Server | None = None
        try:
            await servers.wait_ready(api, "/api/v1/healthz", None, API_WORKERS)
            url = api.url(WEBHOOK)
            # Every worker process checks the key once (argon2) and warms its statement caches.
            warm = await post_all(
                url, auth.headers, [f"SE{n:010d}" for n in range(WARMUP)], 0, CONNECTIONS
            )
            if warm.errors:
                raise RuntimeError(f"warm-up failed: {warm.errors[:3]}")
            print(f"bench: intake by wrk for {INTAKE_S:.0f} s, {CONNECTIONS} conns", flush=True)
            bodies = tmp / "intake.ndjson"
            bodies.write_bytes(wrk_body("054") + b"\n")
            intake = await load.wrk(
                url,
                bodies,
                '"created"',
                "ILB",
                seconds=INTAKE_S,
                connections=CONNECTIONS,
                api_key=auth.key,
            )
            if intake.errors:
                print(f"bench: intake errors {intake.errors}: {intake.sample}", flush=True)
            print(f"bench: intake paced at {PACED_RATE:.0f} orders/s", flush=True)
            paced_bodies = tmp / "paced.ndjson"
            paced_bodies.write_bytes(wrk_body("055") + b"\n")
            paced = await load.wrk(
                url,
                paced_bodies,
                '"created"',
                "ILP",
                seconds=PACED_S,
                connections=CONNECTIONS,
                rate=PACED_RATE,
                api_key=auth.key,
            )
            ids = await taken_in(db.dsn)  # the drain waits for the orders that were taken in
            print(f"bench: drain with {WORKER_PROCESSES}x{WORKER_THREADS} workers", flush=True)
            worker_argv = [str(VISAPI), "worker"]
            if WORKER_PROCESSES > 1:
                worker_argv += ["--processes", str(WORKER_PROCESSES)]
            workers = start_process(worker_argv, env, tmp / "worker.log")
            sent = await wait_sent(db.dsn, ids, DRAIN_LIMIT_S)
            drain_s, jobs = await drain_window(db.dsn, ids)
            print(f"bench: drained {jobs} jobs in {drain_s:.1f} s", flush=True)

            steady_ids = [f"IL{262228000000 + n}" for n in range(int(STEADY_RATE * STEADY_S))]
            print(f"bench: steady {STEADY_RATE:.0f} orders/s for {STEADY_S:.0f} s", flush=True)
            steady = await post_paced(url, auth.headers, steady_ids, 9_000_000, STEADY_RATE)
            steady_ids = steady.created
            steady_sent = await wait_sent(db.dsn, steady_ids, 120)
            e2e = await e2e_latencies(db.dsn, steady)
            rss = peak_rss_mb(workers.pgid)
            servers.stop(workers)
            workers = None
            alone = await compare_drain(url, auth.headers, env, tmp, db.dsn, "1", 6_000_000)
            grouped = await compare_drain(url, auth.headers, env, tmp, db.dsn, None, 7_000_000)
        finally:
            for proc in (workers, api, vendor):
                if proc is not None:
                    servers.stop(proc)
        baseline = noop_baseline(env, max(jobs, 1000))

    jobs_per_min = jobs / drain_s * 60 if drain_s > 0 else float("nan")
    intake_rate = intake.requests / intake.seconds
    peak = max(rss.values(), default=0.0)
    lines = [
        "# VisAPI pipeline bench",
        "",
        tree_line(ROOT),
        f"API: visapi serve --workers {API_WORKERS}; workers: {WORKER_PROCESSES} process(es) x "
        f"{WORKER_THREADS} threads; fake vendor: visapi fake-vendors (CBB API); PostgreSQL + Redis",
        "",
        "| measure | value | target | met |",
        "|---|---|---|---|",
        _row("intake orders/s (50 conns)", intake_rate, ">= 300", intake_rate >= 300),
        _row(
            "intake p50 / p95 / p99 ms at saturation",
            None,
            "p95 <= 100",
            intake.p95 <= 100,
            f"{intake.p50:.0f} / {intake.p95:.0f} / {intake.p99:.0f}",
        ),
        _row(
            f"intake p50 / p95 ms at {PACED_RATE:.0f} orders/s (paced wrk)",
            None,
            "p95 <= 100",
            paced.p95 <= 100,
            f"{paced.p50:.0f} / {paced.p95:.0f} ({paced.requests / paced.seconds:.0f}/s sent)",
        ),
        _row("jobs/min (sync + confirmation)", jobs_per_min, ">= 12000", jobs_per_min >= 12000),
        _row("no-op actor jobs/min (baseline)", baseline, "-", None),
        _row("ratio to no-op", jobs_per_min / baseline if baseline else None, "-", None, None, 2),
        _row(
            f"end to end p50 / p95 ms at {STEADY_RATE:.0f}/s",
            None,
            "p95 <= 2000",
            pct(e2e, 0.95) <= 2000,
            f"{pct(e2e, 0.5):.0f} / {pct(e2e, 0.95):.0f}",
        ),
        _row("worker peak RSS MB (max)", peak, "<= 150", peak <= 150),
        _row(f"jobs/min, {GROUP_ORDERS} orders, each job alone", alone[0], "-", None),
        _row(f"jobs/min, {GROUP_ORDERS} orders, grouped", grouped[0], "-", None),
        _row("grouped / alone", grouped[0] / alone[0] if alone[0] else None, "-", None, None, 2),
        "",
        f"intake: {intake.requests} orders in {intake.seconds:.1f} s by wrk (C, 2 threads), "
        f"errors {intake.errors or 'none'}; {len(ids)} il orders stored",
        f"drain: {jobs} jobs in {drain_s:.1f} s; confirmations sent {sent}/{len(ids)}",
        f"steady: {len(steady.latencies_ms)} posted in {steady.seconds:.1f} s, "
        f"{len(steady.errors)} errors; confirmations sent {steady_sent}/{len(steady_ids)}; "
        f"intake p95 at {STEADY_RATE:.0f}/s {pct(steady.latencies_ms, 0.95):.0f} ms",
        f"group drains: alone {alone[2]} jobs in {alone[1]:.1f} s, grouped {grouped[2]} jobs "
        f"in {grouped[1]:.1f} s ({WORKER_PROCESSES} worker processes x {WORKER_THREADS} threads)",
        f"worker RSS by pid (MB): {', '.join(f'{p}: {m:.0f}' for p, m in rss.items())}",
        f"e2e spread: mean {statistics.fmean(e2e) if e2e else float('nan'):.0f} ms, "
        f"max {max(e2e, default=float('nan')):.0f} ms",
    ]
    return "\n".join(lines) + "\n"


def _row(
    name: str,
    value: float | None,
    target: str,
    met: bool | None,
    text: str | None = None,
    digits: int = 0,
) -> str:
    shown = text if text is not None else ("-" if value is None else f"{value:,.{digits}f}")
    verdict = "-" if met is None else ("yes" if met else "**no**")
    return f"| {name} | {shown} | {target} | {verdict} |"


def main() -> int:
    import tempfile

    with tempfile.TemporaryDirectory(prefix="visapi-pipeline-") as tmp:
        text = asyncio.run(bench(Path(tmp)))
    REPORT.write_text(text)
    print(text, flush=True)
    print(f"bench: report written to {REPORT}", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
