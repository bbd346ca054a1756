"""Subscriptions across processes on PostgreSQL + Redis: an order taken in by one API process (and
synced and confirmed by a separate worker) reaches subscribers on another and on every worker
of `serve --workers 2`; a revocation written straight to the database (no Redis message at
all) closes the caller's sockets on every process; Redis restarting under a subscriber."""

from __future__ import annotations

import asyncio
import subprocess
import uuid
from collections.abc import Iterator
from contextlib import AsyncExitStack, contextmanager
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import update

from infrastructure.db.engine import create_engine
from infrastructure.db.tables import api_keys
from tests.live import (
    closed_with,
    create_order,
    issued,
    listening,
    message,
    new_key,
    order_body,
    serve_workers,
    socket,
    subscribe,
)
from tests.processes import CLI, ROOT, base_env, servers
from tests.services import listening as port_open
from tests.waiting import eventually, until

pytestmark = [pytest.mark.postgres, pytest.mark.redis]

EVENTS = "subscription { orderEvents { type order { orderId } } }"
PIPELINE = ["CREATED", "CONTACT_SYNCED", "CONFIRMATION_QUEUED", "CONFIRMATION_SENT"]


def production_env(postgres_url: str, redis_url: str) -> dict[str, str]:
    return base_env(
        VISAPI_DATABASE_URL=postgres_url,
        VISAPI_REDIS_URL=redis_url,
        VISAPI_REDIS_NAMESPACE=f"visapi-live-{uuid.uuid4().hex[:8]}",
        VISAPI_SECRET_KEY="shared-between-processes-0123456789",
        VISAPI_SUBSCRIPTION_RECHECK_S="1",
    )


@contextmanager
def worker(env: dict[str, str], log: Path) -> Iterator[None]:
    with log.open("w") as out:
        process = subprocess.Popen(
            [*CLI, "worker", "--threads", "2"], cwd=ROOT, env=env, stdout=out, stderr=out
        )
    try:
        yield
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


async def next_events(ws: object, count: int) -> list[tuple[str, str]]:
    got = []
    while len(got) < count:
        found = await message(ws)  # type: ignore[arg-type]
        assert found["type"] == "next", found
        event = found["payload"]["data"]["orderEvents"]
        got.append((event["type"], event["order"]["orderId"]))
    return got


async def test_an_order_taken_in_by_one_process_reaches_a_subscriber_on_another(
    postgres_url: str, redis_url: str, tmp_path: Path
) -> None:
    env = production_env(postgres_url, redis_url)
    admin = new_key(env, "admin")
    with servers(env, tmp_path, 2) as (a, b), worker(env, tmp_path / "worker.log"):
        async with socket(b, {"X-API-Key": admin}) as ws:
            await subscribe(ws, "o", EVENTS)
            await listening(b, "orderEvents")
            order = await create_order(a, admin, order_body())
            seen = await next_events(ws, len(PIPELINE))
    # CREATED from API process a, the rest from the worker: all through Redis, in order.
    assert seen == [(kind, order["orderId"]) for kind in PIPELINE]


async def test_every_worker_of_serve_workers_2_delivers(
    postgres_url: str, redis_url: str, tmp_path: Path
) -> None:
    env = production_env(postgres_url, redis_url)
    admin = new_key(env, "admin")
    with serve_workers(env, tmp_path, 2) as base:
        async with AsyncExitStack() as stack:
            sockets = [
                await stack.enter_async_context(socket(base, {"X-API-Key": admin}))
                for _ in range(6)  # the kernel spreads them over both processes
            ]
            for n, ws in enumerate(sockets):
                await subscribe(ws, str(n), EVENTS)
            await listening(base, "orderEvents", len(sockets))  # summed over both processes
            order = await create_order(base, admin, order_body())
            firsts = [(await next_events(ws, 1))[0] for ws in sockets]
    assert firsts == [("CREATED", order["orderId"])] * len(sockets)


async def revoke_in_the_database(url: str, key_id: str) -> None:
    engine = create_engine(url, pool_size=1)
    try:
        async with engine.begin() as conn:
            await conn.execute(
                update(api_keys)
                .where(api_keys.c.id == uuid.UUID(key_id))
                .values(revoked_at=datetime.now(UTC))
            )
    finally:
        await engine.dispose()


async def test_a_revocation_without_any_redis_message_closes_sockets_on_every_process(
    postgres_url: str, redis_url: str, tmp_path: Path
) -> None:
    env = production_env(postgres_url, redis_url)
    admin = new_key(env, "admin")
    with servers(env, tmp_path, 2) as (a, b):
        secret, id = await issued(a, admin, "logs:read")
        async with (
            socket(a, {"X-API-Key": secret}) as on_a,
            socket(b, {"X-API-Key": secret}) as on_b,
        ):
            await subscribe(on_a, "l", "subscription { logs { message } }")
            await subscribe(on_b, "l", "subscription { logs { message } }")
            await listening(a, "logs")
            await listening(b, "logs")
            await revoke_in_the_database(postgres_url, id)
            closed = await asyncio.gather(
                closed_with(on_a, timeout_s=5), closed_with(on_b, timeout_s=5)
            )
    assert [code for code, _ in closed] == [4403, 4403]


def restart_redis(binary: str, port: int) -> subprocess.Popen[bytes]:
    process = subprocess.Popen(
        [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
        stdout=subprocess.DEVNULL,
    )
    until(lambda: port_open(port, process), timeout_s=10, why="redis-server did not restart")
    return process


async def test_subscribers_hear_again_once_redis_is_back(
    postgres_url: str, private_redis: tuple[subprocess.Popen[bytes], str], tmp_path: Path
) -> None:
    process, url = private_redis
    port = int(url.rsplit(":", 1)[1].split("/")[0])
    binary = process.args[0]  # type: ignore[index]
    env = production_env(postgres_url, url)
    admin = new_key(env, "admin")
    with servers(env, tmp_path, 2) as (a, b):
        async with socket(b, {"X-API-Key": admin}) as ws:
            await subscribe(ws, "o", EVENTS)
            await listening(b, "orderEvents")
            process.kill()
            process.wait()
            restarted = restart_redis(str(binary), port)
            try:
                # Published while b resubscribes are lost (at most once); once b is back, each
                # new order reaches the subscriber, still on its open socket.
                async def delivered() -> bool:
                    order = await create_order(a, admin, order_body())
                    try:
                        while True:
                            found = await message(ws, timeout_s=1)
                            data = found["payload"]["data"]["orderEvents"]
                            if data["order"]["orderId"] == order["orderId"]:
                                return True
                    except TimeoutError:
                        return False

                assert await eventually(delivered, timeout_s=30, poll_s=0.2)
            finally:
                restarted.kill()
                restarted.wait()
