"""What the product under test is asked with: an admin API key made by the real CLI, the server
settings that go with it, and which tree (commit, dirty or not) is being measured.

The key is created once per run, after the migration, with `visapi keys create` at the
library's default argon2 cost. The servers get one random VISAPI_SECRET_KEY, so every worker (and
the in-process census) caches the key check under the same HMAC in Redis: the slow hash runs once
per key and cache lifetime. Rate limits are raised far past what the run can send.
A tree without `visapi keys` (before access control) is measured without credentials.
"""

from __future__ import annotations

import asyncio
import os
import secrets
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

import asyncpg

from tests.bench.services import REDIS_URL, BenchDatabase

RATE_LIMIT = 1_000_000_000  # per key and per IP, per 60 s window: never reached
CLI_TIMEOUT_S = 120
SHOWN_DIRTY = 4


@dataclass(frozen=True)
class BenchAuth:
    key: str | None = field(default=None, repr=False)  # None: the tree has no access control
    secret_key: str = field(default_factory=lambda: secrets.token_hex(32), repr=False)

    @property
    def settings(self) -> dict[str, str]:
        """VISAPI_* settings of every product process (servers and census) for this run."""
        if self.key is None:
            return {}
        return {
            "VISAPI_SECRET_KEY": self.secret_key,
            "VISAPI_API_KEY_HASH_COST": "default",
            "VISAPI_RATE_LIMIT_PER_KEY": str(RATE_LIMIT),
            "VISAPI_RATE_LIMIT_PER_IP": str(RATE_LIMIT),
        }

    @property
    def headers(self) -> dict[str, str]:
        return {"X-API-Key": self.key} if self.key else {}

    def describe(self) -> str:
        if self.key is None:
            return "auth: none (this tree has no access control)"
        prefix = self.key.rpartition(".")[0]
        return (
            f"auth: header `X-API-Key` on every product request (admin key {prefix}.…, made by "
            "`visapi keys create --name bench --scopes admin`, argon2 at the library's default "
            "cost); VISAPI_SECRET_KEY = one random 64-hex string for all workers and the census "
            f"(shared key-check cache); VISAPI_RATE_LIMIT_PER_KEY = VISAPI_RATE_LIMIT_PER_IP = "
            f"{RATE_LIMIT:,} per 60 s (raised for the run)"
        )


async def bench_auth(db: BenchDatabase, namespace: str, visapi: Path) -> BenchAuth:
    """An admin key in the migrated bench database, or no key when `visapi keys` is unknown."""
    env = {
        **os.environ,
        "VISAPI_DATABASE_URL": db.url,
        "VISAPI_REDIS_URL": REDIS_URL,
        "VISAPI_REDIS_NAMESPACE": namespace,
        "VISAPI_API_KEY_HASH_COST": "default",
        "VISAPI_LOG_LEVEL": "WARNING",
    }
    argv = [str(visapi), "keys", "create", "--name", "bench", "--scopes", "admin"]
    proc = await asyncio.create_subprocess_exec(
        *argv,
        env=env,
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        out, err = await asyncio.wait_for(proc.communicate(), CLI_TIMEOUT_S)
    except BaseException:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
        raise
    errors = err.decode(errors="replace")
    if proc.returncode != 0:
        if "No such command 'keys'" in errors:
            return BenchAuth()
        raise RuntimeError(f"`visapi keys create` exited {proc.returncode}:\n{errors[-1500:]}")
    lines = out.decode().strip().splitlines()  # stdout carries the key alone
    key = lines[-1].strip() if lines else ""
    if "." not in key:
        raise RuntimeError("`visapi keys create` printed no key on stdout")
    return BenchAuth(key=key)


async def key_reads(db: BenchDatabase) -> int | None:
    """How often the api_keys table has been read, by PostgreSQL's own count (None: no table).

    Exact once the readers have disconnected: a backend flushes its counts when it exits.
    """
    await asyncio.sleep(1)
    conn = await asyncpg.connect(db.dsn, timeout=10)
    try:
        reads = await conn.fetchval(
            "SELECT coalesce(seq_scan, 0) + coalesce(idx_scan, 0) FROM pg_stat_user_tables "
            "WHERE relname = 'api_keys'"
        )
    finally:
        await conn.close()
    return None if reads is None else int(reads)


def key_reads_line(before: int | None, after: int | None, starts: int) -> str:
    if before is None or after is None:
        return "api_keys: no such table in this tree"
    return (
        f"api_keys reads by PostgreSQL's count (pg_stat_user_tables, sequential + index scans) "
        f"while the servers ran: {after - before}, over {starts} product server starts"
    )


def _git(root: Path, *args: str) -> str:
    try:
        done = subprocess.run(
            ["git", "--no-optional-locks", "-C", str(root), *args],
            capture_output=True,
            text=True,
            timeout=20,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        return ""
    return done.stdout if done.returncode == 0 else ""


def tree_line(root: Path) -> str:
    """`tree: <root> at <commit>[+dirty (...)]`; changes under tests/bench do not count."""
    commit = _git(root, "rev-parse", "--short", "HEAD").strip() or "? (not a git tree)"
    changed = []
    for line in _git(root, "status", "--porcelain").splitlines():
        path = line[3:].split(" -> ")[-1].strip('"')
        if path and not path.startswith("tests/bench"):
            changed.append(path)
    text = f"tree: {root} at commit {commit}"
    if changed:
        shown = ", ".join(changed[:SHOWN_DIRTY]) + (", …" if len(changed) > SHOWN_DIRTY else "")
        text += f"+dirty ({len(changed)} changed outside tests/bench: {shown})"
    return text
