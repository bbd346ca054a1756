"""The bench's course: tools, database, seed, SQL census, each row's server under load, report."""

from __future__ import annotations

import asyncio
import math
import os
import signal
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import asyncpg

from tests.bench import load, servers
from tests.bench.census import census
from tests.bench.measure import (
    ConnectionSampler,
    CpuSnapshot,
    CpuUsage,
    loaded_modules,
    peak_rss_mb,
)
from tests.bench.report import RowResult, document, environment, problems
from tests.bench.scenarios import BRANCH_MIX, Row, build_rows
from tests.bench.seed import seed_orders
from tests.bench.services import (
    PG_ADMIN,
    REDIS_URL,
    BenchDatabase,
    bench_database,
    redis_namespace,
    redis_version,
)
from tests.bench.targets import targets
from tests.bench.tools import ToolError, ensure_tools, wrk_version

REPORT = Path(os.environ.get("BENCH_REPORT", "/tmp/visapi-bench.md"))


@dataclass(frozen=True)
class Config:
    workers: int
    duration: float  # seconds of each saturated run
    warmup: float
    fixed: float  # seconds of each fixed-rate run
    connections: int
    orders: int
    fixed_tools: tuple[str, ...]  # "hey" and/or "wrk" (paced)
    budget_s: float  # rows that would end past it are skipped (and flagged)

    @classmethod
    def from_env(cls) -> Config:
        env = os.environ.get
        return cls(
            workers=int(env("BENCH_WORKERS", "2")),
            duration=float(env("BENCH_DURATION", "10")),
            warmup=float(env("BENCH_WARMUP", "3")),
            fixed=float(env("BENCH_FIXED_DURATION", "10")),
            connections=int(env("BENCH_CONNECTIONS", "50")),
            orders=int(env("BENCH_ORDERS", "100000")),
            fixed_tools=tuple(env("BENCH_FIXED_TOOLS", "hey,wrk").split(",")),
            budget_s=float(env("BENCH_BUDGET_S", "570")),
        )


def main() -> int:
    cfg = Config.from_env()
    started = time.monotonic()
    try:
        ensure_tools()
        code = asyncio.run(_bench(cfg))
    except ToolError as exc:
        print(f"bench: {exc}", file=sys.stderr)
        return 2
    except (KeyboardInterrupt, asyncio.CancelledError):
        print("bench: interrupted (servers stopped, database dropped)", file=sys.stderr)
        return 130
    print(f"bench: total run time {time.monotonic() - started:.0f} s", flush=True)
    return code


def _log(text: str) -> None:
    print(f"bench: {text}", flush=True)


async def _bench(cfg: Config) -> int:
    deadline = time.monotonic() + cfg.budget_s
    main_task = asyncio.current_task()
    assert main_task is not None
    for sig in (signal.SIGINT, signal.SIGTERM):  # cancel the run: every `finally` cleans up
        asyncio.get_running_loop().add_signal_handler(sig, main_task.cancel)
    admin = await asyncpg.connect(PG_ADMIN, timeout=10)
    pg_version = "PostgreSQL " + str(await admin.fetchval("SHOW server_version"))
    await admin.close()
    env_lines = environment(pg_version, redis_version(), wrk_version(), cfg.workers)
    for line in env_lines:
        _log(line)
    async with redis_namespace() as namespace, bench_database() as db:
        _log(f"database {db.name}, Redis namespace {namespace}; seeding {cfg.orders:,} orders")
        seed = await asyncio.wait_for(seed_orders(db.dsn, cfg.orders), 240)
        seeded = (
            f"seeded {seed.count:,} orders + events in {seed.total_s:.1f} s (generate "
            f"{seed.generate_s:.1f} s, COPY {seed.copy_s:.1f} s, VACUUM ANALYZE "
            f"{seed.analyze_s:.1f} s)"
        )
        _log(seeded)
        rows = build_rows(seed.sample_ids)
        sql = await asyncio.wait_for(census(db, namespace, rows), 240)
        _log("SQL census done: " + ", ".join(f"{k} {c.statements:g}" for k, c in sql.items()))
        results = [RowResult(row, sql=sql.get(row.key)) for row in rows]
        with tempfile.TemporaryDirectory(prefix="visapi-bench-") as tmp:
            for i, result in enumerate(results, 1):
                if time.monotonic() + _row_estimate(cfg) > deadline:
                    result.problems.append(f"skipped: past BENCH_BUDGET_S={cfg.budget_s:g}")
                    continue
                await _row(result, cfg, db, namespace, Path(tmp))
                _log(f"[{i}/{len(results)}] {_summary(result)}")
    setup = [
        seeded,
        f"saturation: wrk -t{load.WRK_THREADS} -c{cfg.connections} -d{cfg.duration:g}s after a "
        f"{cfg.warmup:g} s warm-up (latency percentiles from wrk's histogram, in wrk.lua)",
        f"fixed rate, ½ of the row's saturated req/s, {cfg.fixed:g} s each: hey -c C -q rate/C "
        "(C = rate/50 within 10..50; its workers tick in step) and wrk_paced.lua with C "
        "connections, which spreads the sends evenly; createOrder only the latter (hey cannot "
        "vary the order id)",
        f"createOrder branch mix: {BRANCH_MIX} (of 20 bodies); `il` orders write an outbox job "
        "published to Redis (no worker runs)",
    ]
    text = document(env_lines, setup, results, targets(results, cfg.workers, sql))
    print("\n" + text, flush=True)
    _save(text)
    if problems(results):
        _log(f"{len(problems(results))} problem(s) flagged above: exit status 1")
        return 1
    return 0


def _save(text: str) -> None:
    try:
        REPORT.write_text(text)
        _log(f"report also written to {REPORT}")
    except OSError as exc:
        _log(f"could not write {REPORT}: {exc}")


def _probe(row: Row) -> tuple[str, str | None]:
    """What tells that a server is ready: the product's readiness route, else the row's request."""
    if row.server == "product":
        return "/api/v1/readyz", None
    return row.path, (row.bodies[0] if row.bodies else None)


def _server_env(kind: str, db: BenchDatabase, namespace: str) -> dict[str, str]:
    if kind == "product":
        return {
            "VISAPI_DATABASE_URL": db.url,
            "VISAPI_REDIS_URL": REDIS_URL,
            "VISAPI_REDIS_NAMESPACE": namespace,
        }
    return {"BENCH_PG_DSN": db.dsn}


def _row_estimate(cfg: Config) -> float:
    return cfg.warmup + cfg.duration + 2 * cfg.fixed + 15  # + start and stop of the server


async def _row(result: RowResult, cfg: Config, db: BenchDatabase, ns: str, tmp: Path) -> None:
    """One row, time-boxed; any failure is recorded on the row, never hidden."""
    budget = cfg.warmup + cfg.duration + 2 * cfg.fixed + 120
    try:
        await asyncio.wait_for(_measure(result, cfg, db, ns, tmp), budget)
    except (load.LoadError, RuntimeError, TimeoutError, OSError) as exc:
        result.problems.append(f"{type(exc).__name__}: {exc}")


async def _measure(result: RowResult, cfg: Config, db: BenchDatabase, ns: str, tmp: Path) -> None:
    row = result.row
    bodies = None
    if row.bodies:
        bodies = tmp / f"{row.key}.jsonl"
        bodies.write_text("\n".join(row.bodies) + "\n")
    server = servers.start(
        row.server, cfg.workers, _server_env(row.server, db, ns), tmp / f"{row.key}.log"
    )
    try:
        await servers.wait_ready(server, *_probe(row), cfg.workers)
        url = server.url(row.path)
        warm = await load.wrk(
            url, bodies, row.expect, "W", seconds=cfg.warmup, connections=cfg.connections
        )
        if not warm.ok:
            result.problems.append(f"warm-up errors {warm.errors}; first: {warm.sample}")
        before = CpuSnapshot.take(server.pgid, db.name)
        async with ConnectionSampler(db.name) as sampler:
            result.sat = sat = await load.wrk(
                url, bodies, row.expect, "S", seconds=cfg.duration, connections=cfg.connections
            )
            if not sat.ok:  # what the database sees while the server is in trouble
                result.problems.append(f"database sessions: {await sampler.activity()}")
        result.cpu = CpuUsage.between(before, CpuSnapshot.take(server.pgid, db.name))
        result.conns = sampler.peak
        result.libs = loaded_modules(server.pgid)
        await _fixed_rate(result, cfg, url, bodies)
        result.rss_mb = peak_rss_mb(server.pgid)
        if server.proc.poll() is not None:
            result.problems.append(f"server exited during the row:\n{server.log_tail()}")
        if result.problems or not sat.ok:
            result.problems.append(f"server log tail:\n{server.log_tail(6)}")
    finally:
        await asyncio.to_thread(servers.stop, server)


async def _fixed_rate(result: RowResult, cfg: Config, url: str, bodies: Path | None) -> None:
    """Half the saturated req/s: hey (unless the bodies vary), then paced wrk, same rate."""
    assert result.sat is not None
    row, rate = result.row, result.sat.rps / 2
    result.fixed_target = rate
    if rate <= 0:
        return
    # Each hey worker at most 50 req/s (a tick every 20 ms), so it keeps up with its ticks.
    workers = min(cfg.connections, max(10, math.ceil(rate / 50)))
    if "hey" in cfg.fixed_tools and not row.unique:
        body = row.bodies[0] if row.bodies else None
        load_ = await load.hey(url, body, rate=rate, workers=workers, seconds=cfg.fixed)
        result.fixed["hey"] = load_
    if "wrk" in cfg.fixed_tools or row.unique:
        result.fixed["wrk"] = await load.wrk(
            url, bodies, row.expect, "F", seconds=cfg.fixed, connections=workers, rate=rate
        )


def _summary(r: RowResult) -> str:
    s = r.sat
    text = f"{r.row.label}: "
    if s:
        text += f"{s.rps:,.0f} req/s, p50/p95/p99 {s.p50:.1f}/{s.p95:.1f}/{s.p99:.1f} ms"
    for tool, f in r.fixed.items():
        text += f"; ½ rate {tool} ({f.rps:,.0f} req/s) p95 {f.p95:.1f} ms"
    if not r.clean:
        text += " [FLAGGED]"
    return text
