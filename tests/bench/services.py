"""The bench's own PostgreSQL database and Redis namespace: created fresh, removed at the end."""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

import asyncpg
import redis

from infrastructure.db.migrate import upgrade_async

PG_ADMIN = os.environ.get("BENCH_POSTGRES_DSN", "postgresql://postgres@127.0.0.1:5432/postgres")
REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/0")


@dataclass(frozen=True)
class BenchDatabase:
    name: str
    dsn: str  # for asyncpg: postgresql://...

    @property
    def url(self) -> str:
        """The SQLAlchemy URL the product takes (postgresql+asyncpg://...)."""
        return self.dsn.replace("postgresql://", "postgresql+asyncpg://", 1)


def _dsn_for(name: str) -> str:
    base, _, _ = PG_ADMIN.rpartition("/")
    return f"{base}/{name}"


@asynccontextmanager
async def bench_database() -> AsyncIterator[BenchDatabase]:
    """A migrated, empty database with a random name; dropped (WITH FORCE) whatever happens."""
    name = f"visapi_bench_{uuid.uuid4().hex[:10]}"
    admin = await asyncpg.connect(PG_ADMIN, timeout=10)
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    db = BenchDatabase(name, _dsn_for(name))
    try:
        await asyncio.wait_for(upgrade_async(db.url), timeout=120)
        yield db
    finally:
        # Shielded: a Ctrl-C while dropping must not leave the database behind.
        await asyncio.shield(drop_database(name))


async def drop_database(name: str) -> None:
    admin = await asyncpg.connect(PG_ADMIN, timeout=10)
    try:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await admin.close()
    print(f"bench: dropped database {name}", flush=True)


async def connections_to(admin: asyncpg.Connection, name: str) -> int:
    count = await admin.fetchval("SELECT count(*) FROM pg_stat_activity WHERE datname = $1", name)
    return int(count)


@asynccontextmanager
async def redis_namespace() -> AsyncIterator[str]:
    """A unique VISAPI_REDIS_NAMESPACE; its keys (cache, broker queues) are deleted at the end."""
    namespace = f"visapi_bench_{uuid.uuid4().hex[:10]}"
    client = redis.Redis.from_url(REDIS_URL, socket_timeout=5)
    client.ping()
    try:
        yield namespace
    finally:
        deleted = 0
        batch: list[bytes] = []
        for key in client.scan_iter(match=f"{namespace}*", count=1000):
            batch.append(key)
            if len(batch) >= 1000:
                deleted += int(client.delete(*batch))
                batch.clear()
        if batch:
            deleted += int(client.delete(*batch))
        client.close()
        print(f"bench: deleted {deleted} Redis keys of namespace {namespace}", flush=True)


def redis_version() -> str:
    client = redis.Redis.from_url(REDIS_URL, socket_timeout=5)
    try:
        return str(client.info("server").get("redis_version", "?"))
    finally:
        client.close()
