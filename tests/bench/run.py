"""The bench's course: tools, database, seed, SQL census, each row's server under load, report."""

from __future__ import annotations

import asyncio
import math
import signal
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import asyncpg
import httpx

from tests.bench import load, peers, profile, report, servers
from tests.bench.census import census
from tests.bench.config import REPORT, Config
from tests.bench.credentials import (
    BenchAuth,
    bench_auth,
    key_reads,
    key_reads_line,
    tree_line,
)
from tests.bench.measure import (
    ConnectionSampler,
    CpuSnapshot,
    CpuUsage,
    loaded_modules,
    peak_rss_mb,
)
from tests.bench.report import RowResult, document, environment, problems, summary
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
    env_lines.append(tree_line(servers.ROOT))
    for line in env_lines:
        _log(line)
    keys = [r.key for r in build_rows([])]
    if cfg.rows - set(keys):  # before seeding: a typo should cost seconds, not minutes
        raise ToolError(f"BENCH_ROWS: unknown rows {sorted(cfg.rows - set(keys))}; rows: {keys}")
    if cfg.rows:
        _log(f"BENCH_ROWS: loading only {[k for k in keys if k in cfg.rows]}")
    postgraphile, pg_missing = await _postgraphile(cfg)
    env_lines.append(postgraphile)
    _log(postgraphile)
    async with redis_namespace() as namespace, bench_database() as db:
        auth = await bench_auth(db, namespace, servers.BIN / "visapi")
        env_lines.append(auth.describe())
        _log(env_lines[-1])
        _log(f"database {db.name}, Redis namespace {namespace}; seeding {cfg.orders:,} orders")
        seed = await asyncio.wait_for(seed_orders(db.dsn, cfg.orders), 240)
        seeded = (
            f"seeded {seed.count:,} orders + events in {seed.total_s:.1f} s (generate "
            f"{seed.generate_s:.1f} s, COPY {seed.copy_s:.1f} s, VACUUM ANALYZE "
            f"{seed.analyze_s:.1f} s)"
        )
        _log(seeded)
        rows = build_rows(seed.sample_ids)
        answer_key = await peers.store_cached_answer(db.dsn, namespace, seed.sample_ids[0])
        sql = await asyncio.wait_for(census(db, namespace, rows, auth), 240)
        _log("SQL census done: " + ", ".join(f"{k} {c.statements:g}" for k, c in sql.items()))
        _log(report.key_checks(sql))
        reads_before = await key_reads(db)  # the census's backends have exited
        results = [RowResult(row, sql=sql.get(row.key)) for row in rows if cfg.selects(row.key)]
        for result in results:
            if result.row.needs:
                result.note = f"needs {result.row.needs}"
            elif result.row.server == "postgraphile" and pg_missing:
                result.note = f"unavailable: {pg_missing}"
        env = _Env(db, namespace, auth, answer_key)
        with tempfile.TemporaryDirectory(prefix="visapi-bench-") as tmp:
            for i, result in enumerate(results, 1):
                if result.note:
                    _log(f"[{i}/{len(results)}] {result.row.label}: {result.note}")
                    continue
                if time.monotonic() + _row_estimate(cfg) > deadline:
                    result.problems.append(f"skipped: past BENCH_BUDGET_S={cfg.budget_s:g}")
                    continue
                await _row(result, cfg, env, Path(tmp))
                _log(f"[{i}/{len(results)}] {summary(result)}")
        starts = sum(r.row.server == "product" and r.cpu is not None for r in results)
        reads = key_reads_line(reads_before, await key_reads(db), starts)
        _log(reads)
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
        report.key_checks(sql),
        reads,
    ]
    text = document(env_lines, setup, results, targets(results, cfg.workers, sql))
    print("\n" + text, flush=True)
    _log(report.save(text, REPORT))
    if problems(results):
        _log(f"{len(problems(results))} problem(s) flagged above: exit status 1")
        return 1
    return 0


async def _postgraphile(cfg: Config) -> tuple[str, str]:
    """(the environment's line, why its rows cannot run or ""), installed first if need be."""
    if not any(cfg.selects(r.key) for r in build_rows([]) if r.server == "postgraphile"):
        return "PostGraphile 4: not selected (BENCH_ROWS)", ""
    try:
        return await asyncio.to_thread(peers.ensure_postgraphile), ""
    except peers.Unavailable as exc:
        return f"PostGraphile 4: unavailable: {exc}", str(exc)


@dataclass(frozen=True)
class _Env:
    """What the servers of a run are given: the database, Redis namespace, credentials."""

    db: BenchDatabase
    namespace: str
    auth: BenchAuth
    answer_key: str  # the cached answer the Redis-GET baseline serves


def _probe(row: Row) -> tuple[str, str | None]:
    """What tells that a server is ready: the product's readiness route, else the row's request."""
    if row.server == "product":
        return "/api/v1/readyz", None
    return row.path, (row.bodies[0] if row.bodies else None)


def _server_env(kind: str, env: _Env) -> dict[str, str]:
    if kind == "product":
        return {
            # The rows measure the read path without the response cache; the one row
            # that measures a cache hit turns it on (Row.env).
            "VISAPI_RESPONSE_CACHE": "false",
            "VISAPI_DATABASE_URL": env.db.url,
            "VISAPI_REDIS_URL": REDIS_URL,
            "VISAPI_REDIS_NAMESPACE": env.namespace,
            **env.auth.settings,
        }
    if kind == "redis":
        return {"BENCH_REDIS_URL": REDIS_URL, "BENCH_REDIS_KEY": env.answer_key}
    return {"BENCH_PG_DSN": env.db.dsn}


def _row_estimate(cfg: Config) -> float:
    return cfg.warmup + cfg.duration + 2 * cfg.fixed + 15  # + start and stop of the server


async def _row(result: RowResult, cfg: Config, env: _Env, tmp: Path) -> None:
    """One row, time-boxed; any failure is recorded on the row, never hidden."""
    budget = cfg.warmup + cfg.duration + 2 * cfg.fixed + 120
    try:
        await asyncio.wait_for(_measure(result, cfg, env, tmp), budget)
    except (load.LoadError, RuntimeError, TimeoutError, OSError) as exc:
        result.problems.append(f"{type(exc).__name__}: {exc}")


async def _measure(result: RowResult, cfg: Config, env: _Env, tmp: Path) -> None:
    row, db, auth = result.row, env.db, env.auth
    key = auth.key if row.server == "product" else None  # the baselines check no credentials
    bodies = None
    if row.bodies:
        bodies = tmp / f"{row.key}.jsonl"
        bodies.write_text("\n".join(row.bodies) + "\n")
    server_env = {**_server_env(row.server, env), **dict(row.env)}
    server = servers.start(row.server, cfg.workers, server_env, tmp / f"{row.key}.log")
    try:
        headers = auth.headers if key else None
        await servers.wait_ready(server, *_probe(row), cfg.workers, headers)
        if row.register:
            await _register(server.url(row.path.partition("?")[0]), row, headers or {})
        url = server.url(row.path)
        conns = cfg.connections
        warm = await load.wrk(
            url, bodies, row.expect, "W", seconds=cfg.warmup, connections=conns, api_key=key
        )
        if not warm.ok:
            result.problems.append(f"warm-up errors {warm.errors}; first: {warm.sample}")
        before = CpuSnapshot.take(server.pgid, db.name)
        async with ConnectionSampler(db.name) as sampler:
            result.sat = sat = await load.wrk(
                url, bodies, row.expect, "S", seconds=cfg.duration, connections=conns, api_key=key
            )
            if not sat.ok:  # what the database sees while the server is in trouble
                result.problems.append(f"database sessions: {await sampler.activity()}")
        result.cpu = CpuUsage.between(before, CpuSnapshot.take(server.pgid, db.name))
        result.conns = sampler.peak
        result.libs = loaded_modules(server.pgid)
        await _fixed_rate(result, cfg, url, bodies, key)
        result.rss_mb = peak_rss_mb(server.pgid)
        if cfg.profile:
            await _profile(result, cfg, server, url, bodies, key)
        if server.proc.poll() is not None:
            result.problems.append(f"server exited during the row:\n{server.log_tail()}")
        if result.problems or not sat.ok:
            result.problems.append(f"server log tail:\n{server.log_tail(6)}")
    finally:
        await asyncio.to_thread(servers.stop, server)


async def _register(url: str, row: Row, headers: dict[str, str]) -> None:
    """A persisted row's document registered (APQ) before the load sends its hash alone."""
    async with httpx.AsyncClient(timeout=30) as client:
        answer = await client.post(
            url, content=row.register, headers={**headers, "content-type": "application/json"}
        )
    if answer.status_code != 200 or row.expect not in answer.text or '"errors"' in answer.text:
        raise RuntimeError(
            f"registering {row.key}'s document: {answer.status_code} {answer.text[:300]}"
        )


async def _profile(
    result: RowResult,
    cfg: Config,
    server: servers.Server,
    url: str,
    bodies: Path | None,
    key: str | None,
) -> None:
    """A saturated run under py-spy; its figures are not the table's."""
    out = profile.PROFILE_DIR / f"{result.row.key}.txt"
    recording = asyncio.create_task(profile.record(server.pgid, cfg.duration, out))
    await asyncio.sleep(1)  # py-spy attaches to every worker first
    await load.wrk(
        url,
        bodies,
        result.row.expect,
        "P",
        seconds=cfg.duration,
        connections=cfg.connections,
        api_key=key,
    )
    await recording
    _log(f"{result.row.key}: " + profile.summarize(out).describe())


async def _fixed_rate(
    result: RowResult, cfg: Config, url: str, bodies: Path | None, key: str | None
) -> None:
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
        result.fixed["hey"] = await load.hey(
            url, body, rate=rate, workers=workers, seconds=cfg.fixed, api_key=key
        )
    if "wrk" in cfg.fixed_tools or row.unique:
        result.fixed["wrk"] = await load.wrk(
            url,
            bodies,
            row.expect,
            "F",
            seconds=cfg.fixed,
            connections=workers,
            rate=rate,
            api_key=key,
        )
