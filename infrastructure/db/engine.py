"""Engines: PostgreSQL via asyncpg with a bounded pool; SQLite in WAL mode with a busy timeout."""

from __future__ import annotations

import json
import time
from typing import Any

import orjson
from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from sqlalchemy.pool import AsyncAdaptedQueuePool

# Passed as an execution option by writers on SQLite: take the write lock at BEGIN so two
# writers queue on the busy timeout instead of failing when a read lock cannot be upgraded.
SQLITE_BEGIN = "visapi_sqlite_begin"


def _json_dumps(value: Any) -> str:
    try:
        return orjson.dumps(value).decode()
    except orjson.JSONEncodeError:
        # orjson refuses integers beyond 64 bits, which a stored request body may hold.
        return json.dumps(value)


# JSON columns (flags, payloads) are decoded on every row read: orjson is several times faster
# than the stdlib json SQLAlchemy uses by default.
JSON_CODEC = {"json_serializer": _json_dumps, "json_deserializer": orjson.loads}


class CountedPool(AsyncAdaptedQueuePool):
    """SQLAlchemy's asyncio queue pool, counting the checkouts that had to wait for a
    connection (every one in use, no overflow left) and how long they waited, for
    `visapi_db_pool_waits` and `visapi_db_pool_wait_seconds` (metrics_process.py)."""

    waits = 0
    waited_s = 0.0

    def _do_get(self) -> Any:
        exhausted = self._max_overflow > -1 and self._overflow >= self._max_overflow
        if not (exhausted and self._pool.empty()):
            return super()._do_get()
        started = time.perf_counter()
        try:
            return super()._do_get()
        finally:
            self.waits += 1
            self.waited_s += time.perf_counter() - started


def create_engine(url: str, *, pool_size: int = 10, echo: bool = False) -> AsyncEngine:
    if url.startswith("sqlite"):
        engine = create_async_engine(url, echo=echo, connect_args={"timeout": 30}, **JSON_CODEC)
        _sqlite_pragmas(engine.sync_engine)
        return engine
    return create_async_engine(
        url,
        echo=echo,
        poolclass=CountedPool,
        pool_size=pool_size,
        max_overflow=0,
        pool_pre_ping=False,
        pool_recycle=1800,
        **JSON_CODEC,
        # Statements are few and stable: let asyncpg keep its prepared statement cache.
        connect_args={"server_settings": {"application_name": "visapi"}},
    )


def _sqlite_pragmas(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def on_connect(dbapi_conn: Any, _record: Any) -> None:
        # Let SQLAlchemy's "begin" event below emit BEGIN itself (pysqlite's own is deferred).
        dbapi_conn.isolation_level = None
        cursor = dbapi_conn.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()

    @event.listens_for(engine, "begin")
    def on_begin(conn: Any) -> None:
        mode = conn.get_execution_options().get(SQLITE_BEGIN, "DEFERRED")
        conn.exec_driver_sql(f"BEGIN {mode}")
