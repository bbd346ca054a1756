"""Integration fixtures: cache backends (memory, or Redis in a namespace of its own), the
pipeline container, and the vendors of workflow runs (fake chat, SMTP sink)."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from pathlib import Path

import pytest
import redis.asyncio

from app.ports import Cache
from infrastructure.cache.memory import MemoryCache
from infrastructure.cache.redis import RedisCache, redis_client
from infrastructure.vendors.cbb import CbbClient
from tests.fake_chat import FakeChat, fake_chat
from tests.integration.workflow_support import workflow_settings
from tests.pipeline import pipeline
from tests.services import redis_url_or_skip
from tests.smtp_sink import Sink, smtp_sink
from tests.vendor import FakeVendor
from visapi.settings import Settings

# A container on the parametrised database with fake vendors (tests/pipeline.py).
p = pytest.fixture(pipeline)


async def _drop_namespace(client: redis.asyncio.Redis, namespace: str) -> None:
    # Generation keys have no ttl; remove everything the test wrote.
    keys = [k async for k in client.scan_iter(match=f"{namespace}:*")]
    if keys:
        await client.delete(*keys)


@asynccontextmanager
async def redis_caches(count: int) -> AsyncIterator[list[RedisCache]]:
    """`count` caches on separate clients (as separate processes would be), one fresh namespace."""
    url, namespace = redis_url_or_skip(), f"visapi-test-{uuid.uuid4().hex[:12]}"
    clients = [redis_client(url) for _ in range(count)]
    try:
        yield [RedisCache(client, namespace) for client in clients]
    finally:
        try:
            await _drop_namespace(clients[0], namespace)
        finally:
            for client in clients:
                await client.aclose()


@pytest.fixture(params=["memory", "redis"])
async def cache(request: pytest.FixtureRequest) -> AsyncIterator[Cache]:
    if request.param == "memory":
        yield MemoryCache()
    else:
        async with redis_caches(1) as (only,):
            yield only


@pytest.fixture
async def cbb_client(fake_vendor: FakeVendor) -> AsyncIterator[CbbClient]:
    """A CBB client of the fake vendor server: no pause between in-process retries."""
    cbb = CbbClient(fake_vendor.base_url, fake_vendor.token, timeout_s=5, retries=2, backoff_s=0)
    yield cbb
    await cbb.aclose()


# Workflow runs against real vendors: a fake chat server, an SMTP sink, PDFs in tmp_path.
@pytest.fixture
def chat() -> Iterator[FakeChat]:
    with fake_chat() as c:
        yield c


@pytest.fixture
def sink() -> Iterator[Sink]:
    with smtp_sink() as s:
        yield s


@pytest.fixture
def wf_settings(settings: Settings, tmp_path: Path, chat: FakeChat, sink: Sink) -> Settings:
    return workflow_settings(
        settings,
        tmp_path,
        slack_webhook_url=chat.url,
        email_host="127.0.0.1",
        email_port=sink.port,
        email_from="visapi@example.test",
    )
