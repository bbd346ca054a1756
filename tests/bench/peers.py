"""What the peer baselines need set up: PostGraphile 4 from npm, and the answer the Redis-GET
route serves.

PostGraphile is installed once with the machine's node and npm into tests/bench/.node
(gitignored) and reused on later runs; nothing is fetched at run time. Failing that, its rows say
why and the bench goes on. It runs with `--cluster-workers N` (N = the product's uvicorn workers)
against the bench's own database, the query log and GraphiQL off, like the product's `serve`.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import uuid
from pathlib import Path

import asyncpg
import redis.asyncio as aioredis

from tests.bench.services import REDIS_URL

NODE_DIR = Path(__file__).resolve().parent / ".node"
PACKAGE = "postgraphile@4"
CLI = NODE_DIR / "node_modules" / "postgraphile" / "cli.js"
NPM_TIMEOUT_S = 300


class Unavailable(RuntimeError):
    """A peer cannot run here; the message says why."""


def ensure_postgraphile() -> str:
    """PostGraphile's version, installed into NODE_DIR first when missing (Unavailable: why not)."""
    node, npm = shutil.which("node"), shutil.which("npm")
    if node is None or npm is None:
        raise Unavailable("node and npm are needed (apt-get install nodejs npm)")
    if not CLI.exists():
        NODE_DIR.mkdir(exist_ok=True)
        manifest = NODE_DIR / "package.json"
        if not manifest.exists():
            manifest.write_text('{"private": true}\n')
        try:
            done = subprocess.run(
                [npm, "install", "--no-audit", "--no-fund", "--loglevel=error", PACKAGE],
                cwd=NODE_DIR,
                capture_output=True,
                text=True,
                timeout=NPM_TIMEOUT_S,
                check=False,
            )
        except subprocess.TimeoutExpired:
            raise Unavailable(f"npm install {PACKAGE} took over {NPM_TIMEOUT_S} s") from None
        if done.returncode != 0 or not CLI.exists():
            tail = " ".join((done.stderr or done.stdout).strip().splitlines()[-3:])
            raise Unavailable(f"npm install {PACKAGE} failed ({done.returncode}): {tail[:300]}")
    manifest = json.loads((CLI.parent / "package.json").read_text())
    return f"PostGraphile {manifest['version']} (node {_node_version(node)})"


def _node_version(node: str) -> str:
    done = subprocess.run([node, "--version"], capture_output=True, text=True, check=False)
    return done.stdout.strip() or "?"


def postgraphile_command(dsn: str, host: str, port: int, workers: int) -> list[str]:
    node = shutil.which("node") or "node"
    return [
        node, str(CLI), "--connection", dsn, "--schema", "public", "--host", host,
        "--port", str(port), "--cluster-workers", str(workers), "--disable-query-log",
        "--disable-graphiql",
    ]  # fmt: skip


ANSWER_SQL = (
    "SELECT id, order_id, branch, order_status, amount, currency, client_name, created_at "
    "FROM orders WHERE id = $1"
)


async def store_cached_answer(dsn: str, namespace: str, order_id: str) -> str:
    """Put the product's `order(id)` answer for `order_id` in Redis, as a response cache would
    hold it; the key (inside the run's namespace, so it is deleted with it)."""
    conn = await asyncpg.connect(dsn, timeout=10)
    try:
        row = await conn.fetchrow(ANSWER_SQL, uuid.UUID(order_id))
    finally:
        await conn.close()
    if row is None:
        raise RuntimeError(f"no order {order_id} to cache")
    order = {
        "id": str(row["id"]),
        "orderId": row["order_id"],
        "branch": row["branch"],
        "orderStatus": row["order_status"].upper(),
        "amount": str(row["amount"]),
        "currency": row["currency"],
        "clientName": row["client_name"],
        "createdAt": row["created_at"].isoformat(),
    }
    key = f"{namespace}:bench:cached-answer"
    client = aioredis.Redis.from_url(REDIS_URL)
    try:
        await client.set(key, json.dumps({"data": {"order": order}}, separators=(",", ":")))
    finally:
        await client.aclose()
    return key
