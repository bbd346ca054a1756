"""The baselines that are not the product: bare Starlette, one Redis GET behind it, and Strawberry.

`uvicorn tests.bench.baselines:bare` answers GET / with a small JSON dict.
`uvicorn tests.bench.baselines:redis_get` answers GET / with one Redis GET of a cached answer:
the floor of any cached response (BENCH_REDIS_URL, key BENCH_REDIS_KEY, set by the bench).
`uvicorn tests.bench.baselines:naive` serves /graphql: a plain Strawberry schema (no parser or
validation cache, no extensions) whose `order(id)` resolver does one asyncpg lookup by primary key
through a pool of 10 connections to BENCH_PG_DSN.
`uvicorn tests.bench.baselines:peer` is the same schema with Strawberry's own `ParserCache` and
`ValidationCache`: what a team writes in an afternoon (issue 13's "Strawberry peer", no auth).
"""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime
from typing import Any

import asyncpg
import redis.asyncio as aioredis
import strawberry
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from strawberry.asgi import GraphQL
from strawberry.extensions import ParserCache, ValidationCache


async def hello(request: Request) -> JSONResponse:
    return JSONResponse({"hello": "world", "status": "ok"})


bare = Starlette(routes=[Route("/", hello)])


class Cached:
    """The Redis client of `redis_get`, opened by its lifespan."""

    client: Any = None
    key = ""


async def cached_answer(request: Request) -> Response:
    body = await Cached.client.get(Cached.key)
    if body is None:
        return JSONResponse({"errors": [{"message": "no cached answer"}]}, status_code=404)
    return Response(body, media_type="application/json")


@asynccontextmanager
async def _redis_lifespan(app: Starlette) -> AsyncIterator[None]:
    Cached.client = aioredis.Redis.from_url(os.environ["BENCH_REDIS_URL"])
    Cached.key = os.environ["BENCH_REDIS_KEY"]
    try:
        yield
    finally:
        await Cached.client.aclose()


redis_get = Starlette(routes=[Route("/", cached_answer)], lifespan=_redis_lifespan)

ORDER_SQL = (
    "SELECT id, order_id, branch, order_status, amount, currency, client_name, created_at "
    "FROM orders WHERE id = $1"
)


class Database:
    """The pool, opened by the lifespan; `on_query` (census only) sees every query sent."""

    pool: Any = None
    on_query: Any = None


@strawberry.type
class Order:
    id: strawberry.ID
    order_id: str
    branch: str
    order_status: str
    amount: str
    currency: str
    client_name: str
    created_at: datetime


@strawberry.type
class Query:
    @strawberry.field
    async def order(self, id: strawberry.ID) -> Order | None:
        row = await Database.pool.fetchrow(ORDER_SQL, uuid.UUID(str(id)))
        if row is None:
            return None
        return Order(
            id=strawberry.ID(str(row["id"])),
            order_id=row["order_id"],
            branch=row["branch"],
            order_status=row["order_status"],
            amount=str(row["amount"]),
            currency=row["currency"],
            client_name=row["client_name"],
            created_at=row["created_at"],
        )


async def _init(conn: asyncpg.Connection) -> None:
    if Database.on_query is not None:
        conn.add_query_logger(Database.on_query)


@asynccontextmanager
async def _lifespan(app: Starlette) -> AsyncIterator[None]:
    Database.pool = await asyncpg.create_pool(
        os.environ["BENCH_PG_DSN"], min_size=10, max_size=10, init=_init
    )
    try:
        yield
    finally:
        await Database.pool.close()


schema = strawberry.Schema(query=Query)
naive = Starlette(routes=[Route("/graphql", GraphQL(schema))], lifespan=_lifespan)
# Classes, not instances: Strawberry builds extensions per request (instances are deprecated).
peer_schema = strawberry.Schema(query=Query, extensions=[ParserCache, ValidationCache])
peer = Starlette(routes=[Route("/graphql", GraphQL(peer_schema))], lifespan=_lifespan)
