"""SQL statements per request, counted in-process: the app and its lifespan, httpx.ASGITransport.

The product: a `before_cursor_execute` listener on each engine counts the statements SQLAlchemy
sends (and those naming `api_keys`: a key check missing the cache); a query logger on each asyncpg
connection counts the transaction round trips beside them (BEGIN/COMMIT/ROLLBACK); a wrapper of
the async Redis client's `execute_command` counts Redis commands (cache, rate limits, key checks
and key usage; not the job broker's own client). The naive baseline: its asyncpg pool's query
logger counts both kinds of SQL. The product gets the run's settings and credentials (BenchAuth).
"""

from __future__ import annotations

import asyncio
import os
import uuid
from dataclasses import dataclass, replace
from typing import Any

import httpx
from sqlalchemy import event
from starlette.applications import Starlette

from tests.bench import baselines
from tests.bench.credentials import BenchAuth
from tests.bench.scenarios import OID, Row, page_body
from tests.bench.services import REDIS_URL, BenchDatabase
from visapi.asgi import create_app
from visapi.settings import load_settings

REQUESTS = 50
WARM = 5
TX = ("BEGIN", "START", "COMMIT", "ROLLBACK", "SAVEPOINT", "RELEASE", "END")


@dataclass(frozen=True)
class Census:
    statements: float  # per request
    tx: float  # transaction control and connection resets, per request
    how: str = "measured"
    redis: float = 0.0  # Redis commands per request
    keys: float = 0.0  # statements on api_keys per measured request
    keys_warm: int = 0  # statements on api_keys during the warm-up requests


class Counter:
    def __init__(self) -> None:
        self.statements = 0
        self.tx = 0
        self.redis = 0
        self.keys = 0

    def reset(self) -> None:
        self.statements = self.tx = self.redis = self.keys = 0

    def on_cursor(self, _conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        self.statements += 1
        if "api_keys" in statement:
            self.keys += 1

    def on_query(self, record: Any, *, statements: bool = False) -> None:
        text = record.query.lstrip().upper()
        if text.startswith(TX) or "RESET ALL" in text:
            self.tx += 1
        elif statements:
            self.statements += 1


def _attach(app: Starlette, counter: Counter) -> None:
    container = app.state.container
    for engine in {id(e): e for e in (container.engine, container.read_engine)}.values():
        sync = engine.sync_engine
        event.listen(sync, "before_cursor_execute", counter.on_cursor)

        def on_connect(dbapi_conn: Any, _record: Any, dialect: Any = sync.dialect) -> None:
            dialect.get_driver_connection(dbapi_conn).add_query_logger(counter.on_query)

        event.listen(sync, "connect", on_connect)
    client = getattr(container, "redis", None)
    if client is not None:
        execute = client.execute_command

        async def counted(*args: Any, **options: Any) -> Any:
            counter.redis += 1
            return await execute(*args, **options)

        client.execute_command = counted  # scripts and commands all go through it


def _unique(body: str) -> str:
    return body.replace(OID, f"C{uuid.uuid4().hex[:12]}")


async def _count(
    app: Starlette,
    counter: Counter,
    path: str,
    bodies: list[str],
    headers: dict[str, str],
    register: str = "",
) -> Census:
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app),
        base_url="http://bench",
        timeout=30,
        headers=headers,
    ) as client:

        async def send(i: int) -> None:
            if not bodies:
                answer = await client.get(path)
            else:
                body = _unique(bodies[i % len(bodies)])
                answer = await client.post(
                    path, content=body, headers={"Content-Type": "application/json"}
                )
            if answer.status_code != 200 or b'"errors"' in answer.content:
                raise RuntimeError(f"census {path}: {answer.status_code} {answer.text[:300]}")

        if register:  # a persisted row's document, registered before the hash alone is sent
            answer = await client.post(
                path.partition("?")[0],
                content=register,
                headers={"Content-Type": "application/json"},
            )
            if answer.status_code != 200 or b'"errors"' in answer.content:
                raise RuntimeError(f"census register: {answer.status_code} {answer.text[:300]}")
        for i in range(max(WARM, len(bodies))):  # every body once: the order(id) set is warm
            await send(i)
        await asyncio.sleep(0.05)  # query loggers report through call_soon
        keys_warm = counter.keys
        counter.reset()
        for i in range(REQUESTS):
            await send(i)
        await asyncio.sleep(0.05)
    per = {k: v / REQUESTS for k, v in vars(counter).items()}
    found = Census(per["statements"], per["tx"], redis=per["redis"], keys=per["keys"])
    counter.reset()
    return replace(found, keys_warm=keys_warm)


async def product(
    db: BenchDatabase, namespace: str, rows: list[Row], auth: BenchAuth
) -> dict[str, Census]:
    """Statements per request of each product row, and of a 5-order page ("orders5"), each
    counted under the settings its server runs with (run._server_env, then the row's own
    `env`): with the response cache off, as the servers of the read rows run, a repeated body is
    not a cache hit that counts no SQL."""
    base = {
        "VISAPI_DATABASE_URL": db.url,
        "VISAPI_REDIS_URL": REDIS_URL,
        "VISAPI_REDIS_NAMESPACE": namespace,
        "VISAPI_LOG_LEVEL": "WARNING",
        "VISAPI_RESPONSE_CACHE": "false",
        **auth.settings,
    }
    found: dict[str, Census] = {}
    groups: dict[tuple[tuple[str, str], ...], list[Row]] = {}
    for row in rows:
        if row.server == "product" and not row.needs:
            groups.setdefault(row.env, []).append(row)
    for env, group in sorted(groups.items(), key=lambda item: len(item[0])):
        app = create_app(load_settings({**base, **dict(env)}))
        counter = Counter()
        async with app.router.lifespan_context(app):
            _attach(app, counter)
            for row in group:
                found[row.key] = await _count(
                    app, counter, row.path, list(row.bodies), auth.headers, row.register
                )
            if not env:
                page = [page_body(5)]
                found["orders5"] = await _count(app, counter, "/graphql", page, auth.headers)
    return found


async def strawberry_baseline(db: BenchDatabase, app: Starlette, row: Row) -> Census:
    """The naive baseline or the Strawberry peer: their asyncpg pool's query logger counts."""
    counter = Counter()
    os.environ["BENCH_PG_DSN"] = db.dsn
    baselines.Database.on_query = lambda record: counter.on_query(record, statements=True)
    try:
        async with app.router.lifespan_context(app):
            return await _count(app, counter, row.path, list(row.bodies), {})
    finally:
        baselines.Database.on_query = None


async def census(
    db: BenchDatabase, namespace: str, rows: list[Row], auth: BenchAuth
) -> dict[str, Census]:
    found = await product(db, namespace, rows, auth)
    by_key = {r.key: r for r in rows}
    found["naive"] = await strawberry_baseline(db, baselines.naive, by_key["naive"])
    found["peer"] = await strawberry_baseline(db, baselines.peer, by_key["peer"])
    # The bare routes have no database at all: zero by construction; one GET for the Redis one.
    found["bare"] = Census(0.0, 0.0, "no database")
    found["redis"] = Census(0.0, 0.0, "no database", redis=1.0)
    return found
