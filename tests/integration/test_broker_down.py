"""The broker goes away and comes back: orders still commit, their jobs go out afterwards.

A private redis-server on a free port plays the broker (and cache) of a production-mode
container, so stopping it disturbs nothing else.
"""

from __future__ import annotations

import copy
import json
import logging
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from app.orders.commands import CreateOrder, OrderAccepted
from infrastructure.db.tables import contact_syncs, outbox
from infrastructure.queue.broker import close_broker, create_broker
from infrastructure.vendors.sandbox import SandboxContactSync
from tests.integration.workers import fast, worker_on
from tests.services import free_port, listening
from tests.waiting import eventually, until
from visapi.bootstrap import Container, bootstrap
from visapi.settings import Settings

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "vizi-orders"
IL_ORDER = json.loads((FIXTURES / "il-uk-eta.json").read_text())


class PrivateRedis:
    """A redis-server of this test's own that can be stopped and started on the same port."""

    def __init__(self, binary: str) -> None:
        self.binary = binary
        self.port = free_port()
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        process = self.process = subprocess.Popen(
            [
                self.binary,
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
            ],
            stdout=subprocess.DEVNULL,
        )
        until(
            lambda: listening(self.port, process),
            timeout_s=10,
            why="redis-server did not start",
        )

    def stop(self) -> None:
        if self.process is not None:
            self.process.kill()
            self.process.wait(timeout=10)
            self.process = None


@pytest.fixture
def private_redis() -> Iterator[PrivateRedis]:
    binary = shutil.which("redis-server")
    if binary is None:
        pytest.skip("redis-server is not installed")
    server = PrivateRedis(binary)
    server.start()
    try:
        yield server
    finally:
        server.stop()


def il_order(n: int) -> Any:
    body = copy.deepcopy(IL_ORDER)
    body["order"]["id"] = f"IL2511DOWN{n:02d}"
    body["form"]["client"]["phone"]["number"] = f"054111{n:04d}"
    return body


async def create(c: Container, n: int) -> Any:
    result = await c.bus.handle(CreateOrder(payload=il_order(n)))
    assert isinstance(result, OrderAccepted)
    assert result.created
    return result.order.id


async def synced(c: Container) -> set[Any]:
    async with c.engine.connect() as conn:
        query = select(contact_syncs.c.order_uuid).where(contact_syncs.c.synced.is_(True))
        return set((await conn.execute(query)).scalars())


async def wait_synced(c: Container, expected: set[Any]) -> None:
    async def all_synced() -> bool:
        return expected <= await synced(c)

    # A worker retries its Redis connection every 3 s.
    await eventually(all_synced, timeout_s=40, why=f"not all of {expected} synced")


async def test_orders_commit_while_the_broker_is_down_and_their_jobs_run_after(
    postgres_url: str, private_redis: PrivateRedis, caplog: pytest.LogCaptureFixture
) -> None:
    settings = fast(
        Settings(database_url=postgres_url, redis_url=private_redis.url, db_pool_size=4),
        redis_namespace="visapi-down",
    )
    sandbox = SandboxContactSync()
    broker = create_broker(settings)
    api = bootstrap(settings, broker=create_broker(settings), contacts=sandbox)
    try:
        with worker_on(broker, settings, sandbox):
            first = await create(api, 1)
            await wait_synced(api, {first})

            private_redis.stop()
            caplog.clear()
            with caplog.at_level(logging.ERROR, logger="visapi.relay"):
                during = {await create(api, 2), await create(api, 3)}
                await api.relay.flush()  # the fast path runs in the background
            refused = [r for r in caplog.records if "broker refused" in r.getMessage()]
            # Logged by the relay (a batch stops at its first refusal), never raised into the
            # request: both orders were answered above.
            assert 1 <= len(refused) <= 2
            async with api.engine.connect() as conn:
                rows = (await conn.execute(select(outbox))).all()
            waiting = {r.arguments["order_id"] for r in rows if r.published_at is None}
            assert waiting == {str(o) for o in during}
            assert await api.relay.sweep(older_than_s=0) == 0  # still down: nothing published

            private_redis.start()  # same port, empty: the outbox is what remembers the jobs
            assert await api.relay.sweep(older_than_s=0) == 2
            await wait_synced(api, {first} | during)
        assert {c.contact.phone for c in sandbox.contacts()} == {
            "972541110001",
            "972541110002",
            "972541110003",
        }
    finally:
        await api.aclose()
        close_broker(api.broker)
        close_broker(broker)
