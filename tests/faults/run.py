"""`make faults`: production mode under faults, then the invariants.

A private PostgreSQL cluster and redis-server (tests/faults/services.py), real processes
(`visapi serve --workers 2`, one `visapi worker`, one `visapi scheduler`, `visapi fake-vendors`
as the CRM), and a storefront posting il orders at FAULTS_RATE (20/s) for FAULTS_ORDERS (900),
retrying a failed post with the same idempotency key until acknowledged. During the load:
Redis stopped for 12 s, PostgreSQL crashed (immediate stop) for 6 s, the worker SIGKILLed and
started again, the vendor stalling (answers 2 s late, within the client's timeout). The vendor
posts Meta's statuses of each message a second later (what covers a send the killed worker made
and had no time to record: README, "Faults"). Then every
acknowledged order must be stored once, synced once (one CRM contact create) and confirmed once
(one message) within DRAIN_LIMIT_S after the last fault. Figures are printed; any violation
exits 1. Small Dramatiq timings (heartbeat 3 s, backoff 0.2-2 s, stale claim 60 s) let it drain
in seconds. Without a PostgreSQL server or redis-server the run is skipped, or fails under CI.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import httpx

from tests.bench import servers
from tests.faults.services import (
    MissingBinary,
    PrivatePostgres,
    PrivateRedis,
    free_port,
    report_statuses,
)
from tests.faults.storefront import Load, post_orders
from tests.faults.verdict import Tally, wait_complete

ROOT = Path(__file__).resolve().parents[2]
VISAPI = str(Path(sys.executable).parent / "visapi")
ORDERS = int(os.environ.get("FAULTS_ORDERS", "900"))
RATE = float(os.environ.get("FAULTS_RATE", "20"))
DRAIN_LIMIT_S = float(os.environ.get("FAULTS_DRAIN_LIMIT_S", "120"))
GIVE_UP_S = 120.0  # the storefront's patience per order
TOKEN = "faults-cbb-token"
APP_SECRET = "faults-meta-app-secret"
STATUS_DELAY_S = 1.0
# 503 is the designed answer while Redis is away (idempotency fails closed) or the database
# is: the storefront retries it. Any other 5xx is a fault.
EXPECTED_5XX = frozenset({503})
# (seconds after the load starts, what happens)
REDIS_DOWN_AT, REDIS_DOWN_S = 6.0, 12.0
PG_CRASH_AT, PG_DOWN_S = 22.0, 6.0
WORKER_KILL_AT, WORKER_RESTART_S = 31.0, 2.0
STALL_AT, STALL_DELAY_S, STALL_ANSWERS = 36.0, 2.0, 20


def log(text: str) -> None:
    print(f"faults: {text}", flush=True)


def spawn(name: str, argv: list[str], env: dict[str, str], folder: Path) -> servers.Server:
    with (folder / f"{name}.log").open("ab") as out:
        proc = subprocess.Popen(
            argv,
            cwd=ROOT,
            env={**os.environ, **env, "PYTHONPATH": str(ROOT)},
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own group: stopped or killed as a tree
        )
    return servers.Server(name, 0, proc, folder / f"{name}.log")


def settings_env(pg: PrivatePostgres, redis_url: str, vendor_url: str) -> dict[str, str]:
    return {
        "VISAPI_DATABASE_URL": pg.dsn("visapi").replace("postgresql://", "postgresql+asyncpg://"),
        "VISAPI_REDIS_URL": redis_url,
        "VISAPI_REDIS_NAMESPACE": "faults",
        "VISAPI_CBB_BASE_URL": vendor_url,
        "VISAPI_CBB_TOKEN": TOKEN,
        "VISAPI_WHATSAPP_APP_SECRET": APP_SECRET,
        "VISAPI_CBB_TIMEOUT_S": "5",
        "VISAPI_LOG_LEVEL": "WARNING",
        "VISAPI_SECRET_KEY": secrets.token_hex(32),
        "VISAPI_API_KEY_HASH_COST": "low",
        "VISAPI_RATE_LIMIT_PER_KEY": "1000000",
        "VISAPI_RATE_LIMIT_PER_IP": "1000000",
        "VISAPI_JOB_HEARTBEAT_TIMEOUT_MS": "3000",
        # Chance alone (one command in a million) would leave a killed worker's jobs in Redis:
        # only the maintenance timer brings them back.
        "VISAPI_JOB_MAINTENANCE_CHANCE": "1",
        "VISAPI_JOB_MIN_BACKOFF_MS": "200",
        "VISAPI_JOB_MAX_BACKOFF_MS": "2000",
        "VISAPI_JOB_MAX_RETRIES": "30",
        "VISAPI_JOB_TIME_LIMIT_MS": "15000",
        # Longer than PostgreSQL is away (6 s down, recovery, the worker restarted on top):
        # a send recorded late by its recording job must not meet a stale-claim takeover.
        "VISAPI_NOTIFICATION_STALE_CLAIM_S": "60",
        "VISAPI_OUTBOX_SWEEP_INTERVAL_S": "2",
        "VISAPI_OUTBOX_SWEEP_AGE_S": "2",
        "VISAPI_REQUEST_TIMEOUT_S": "15",
        "VISAPI_IDEMPOTENCY_RECLAIM_S": "20",
    }


def cli(env: dict[str, str], *args: str) -> str:
    done = subprocess.run(
        [VISAPI, *args],
        cwd=ROOT,
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"visapi {' '.join(args)} failed:\n{done.stderr[-2000:]}")
    return done.stdout


class Faults:
    """The faults, at their times after the load started; `last_at` when the last one began."""

    def __init__(
        self,
        pg: PrivatePostgres,
        redis: PrivateRedis,
        restart_worker: Callable[[], None],
        kill_worker: Callable[[], None],
        vendor_url: str,
    ) -> None:
        self._pg, self._redis, self._vendor_url = pg, redis, vendor_url
        self._kill_worker, self._restart_worker = kill_worker, restart_worker
        self.last_at = 0.0

    async def run(self, t0: float) -> None:
        async def at(offset: float, what: str, act: Callable[[], object]) -> None:
            await asyncio.sleep(max(0.0, t0 + offset - time.monotonic()))
            log(f"t={time.monotonic() - t0:5.1f}s {what}")
            await asyncio.to_thread(act)
            self.last_at = time.monotonic()

        await at(REDIS_DOWN_AT, "Redis stopping", self._redis.stop)
        await at(REDIS_DOWN_AT + REDIS_DOWN_S, "Redis restarting", self._redis.start)
        await at(PG_CRASH_AT, "PostgreSQL crashing (immediate stop)", self._pg.crash)
        await at(PG_CRASH_AT + PG_DOWN_S, "PostgreSQL restarting", self._pg.start)
        await at(WORKER_KILL_AT, "worker SIGKILLed", self._kill_worker)
        await at(WORKER_KILL_AT + WORKER_RESTART_S, "worker restarting", self._restart_worker)
        await at(STALL_AT, f"vendor stalls ({STALL_DELAY_S:.0f} s answers)", self._stall)

    def _stall(self) -> None:
        for operation in ("contact.create", "message.send"):
            body = {
                "operation": operation,
                "outcome": "slow",
                "delay": STALL_DELAY_S,
                "times": STALL_ANSWERS,
            }
            httpx.post(f"{self._vendor_url}/_fake/script", json=body, timeout=10).raise_for_status()


async def fault_run(folder: Path) -> list[str]:
    """The run; returns the violations (empty: every invariant held)."""
    pg = PrivatePostgres()
    try:
        redis = PrivateRedis()
    except BaseException:
        pg.close()
        raise
    started: list[servers.Server] = []
    try:
        pg.start()
        redis.start()
        await pg.create_database("visapi")
        vendor_port = free_port()
        vendor_url = f"http://127.0.0.1:{vendor_port}"
        env = settings_env(pg, redis.url, vendor_url)
        cli(env, "migrate")
        key = cli(
            env, "keys", "create", "--name", "storefront", "--scopes", "webhook:vizi,logs:write"
        )
        api_key = key.strip().splitlines()[-1].strip()
        argv = [VISAPI, "fake-vendors", "--port", str(vendor_port), "--token", TOKEN]
        started.append(spawn("vendor", argv, env, folder))
        api = servers.start("product", 2, env, folder / "api.log")
        started.append(api)
        started.append(spawn("scheduler", [VISAPI, "scheduler"], env, folder))
        worker = [spawn("worker", [VISAPI, "worker"], env, folder)]
        await servers.wait_ready(api, "/api/v1/healthz", None, 2)
        webhook = api.url("/api/v1/webhooks/whatsapp")
        await report_statuses(vendor_url, webhook, APP_SECRET, STATUS_DELAY_S)
        log(f"processes up; posting {ORDERS} il orders at {RATE:.0f}/s")

        def kill_worker() -> None:
            os.killpg(worker[0].pgid, signal.SIGKILL)
            worker[0].proc.wait()

        def restart_worker() -> None:
            worker[0] = spawn("worker", [VISAPI, "worker"], env, folder)

        faults = Faults(pg, redis, restart_worker, kill_worker, vendor_url)
        ids = [f"IL{secrets.randbelow(10**6):06d}{n:05d}" for n in range(ORDERS)]
        t0 = time.monotonic()
        fault_task = asyncio.create_task(faults.run(t0))
        load = await post_orders(api.url(""), api_key, ids, 0, RATE, GIVE_UP_S)
        await fault_task
        load_end = time.monotonic()
        log(f"load done in {load.seconds:.1f} s; waiting for the pipeline to drain")
        tally, drained_s = await wait_complete(
            pg.dsn("visapi"), vendor_url, load.acknowledged, DRAIN_LIMIT_S
        )
        since_fault = time.monotonic() - faults.last_at
        async with httpx.AsyncClient(timeout=10) as vendor:
            log(f"Meta's statuses: {(await vendor.get(f'{vendor_url}/_fake/statuses')).json()}")
        started.extend(worker)
        return report(load, tally, drained_s, since_fault, load_end - t0, folder)
    finally:
        for server in reversed(started):
            with contextlib.suppress(Exception):
                await asyncio.to_thread(servers.stop, server)
        redis.close()
        pg.close()


def report(
    load: Load,
    tally: Tally,
    drained_s: float | None,
    since_fault: float,
    load_s: float,
    folder: Path,
) -> list[str]:
    acked = load.acknowledged
    missing = tally.missing(acked)
    dupes = tally.duplicated(acked)
    unacked = [d for d in load.deliveries if d.acked_after_s is None]
    bad_5xx = load.server_errors(expected=EXPECTED_5XX)
    losses = sum(len(v) for v in missing.values())
    duplicates = sum(len(v) for v in dupes.values())
    log(f"orders: {len(load.deliveries)} posted, {len(acked)} acknowledged in {load_s:.1f} s")
    log(f"answers: {dict(sorted(load.statuses.items()))}")
    log(
        f"first-try failures: {load.first_try_failures}; longest retry {load.longest_retry_s:.1f} s"
    )
    drain = "not complete" if drained_s is None else f"{drained_s:.1f} s after the load"
    log(
        f"drain: {drain} (bound {DRAIN_LIMIT_S:.0f} s); complete {since_fault:.1f} s after the"
        " last fault began"
    )
    log(f"duplicates: {duplicates} { ({k: v[:5] for k, v in dupes.items() if v}) }")
    log(f"losses: {losses} { ({k: v[:5] for k, v in missing.items() if v}) }")
    violations = []
    if unacked:
        violations.append(
            f"{len(unacked)} order(s) never acknowledged: {[d.order_id for d in unacked[:5]]}"
        )
    refused = [d for d in load.deliveries if d.refused]
    if refused:
        violations.append(f"{len(refused)} order(s) refused: {refused[0].refused}")
    if bad_5xx:
        violations.append(f"unexpected 5xx answers to the storefront: {dict(bad_5xx)}")
    if losses:
        violations.append(f"{losses} loss(es) {DRAIN_LIMIT_S:.0f} s after the load")
    if duplicates:
        violations.append(f"{duplicates} duplicate(s)")
    if violations:
        log(f"logs kept in {folder}")
    return violations


def main() -> int:
    begun = time.monotonic()
    folder = Path(tempfile.mkdtemp(prefix="visapi-faults-"))
    try:
        violations = asyncio.run(fault_run(folder))
    except MissingBinary as exc:
        shutil.rmtree(folder, ignore_errors=True)
        if os.environ.get("CI") == "true":
            log(f"FAILED: {exc}")
            return 1
        log(f"skipped: {exc}")
        return 0
    except BaseException:
        log(f"the run broke off after {time.monotonic() - begun:.0f} s; logs kept in {folder}")
        raise
    for violation in violations:
        log(f"VIOLATION: {violation}")
    verdict = "FAILED" if violations else "passed"
    log(f"{verdict} in {time.monotonic() - begun:.0f} s")
    if not violations:
        shutil.rmtree(folder, ignore_errors=True)
    return 1 if violations else 0
