"""The slow hash runs once per key and cache lifetime, on memory and on Redis shared between
processes; entries are keyed by an HMAC of the key and hold neither the key nor its secret."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from functools import partial
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from app.auth.authenticate import check_key, key_digest
from app.auth.commands import IssuedKey
from app.errors import Unauthenticated
from app.ports import Cache
from infrastructure.auth.verifiers import Argon2Hasher
from infrastructure.cache.key_usage import MemoryKeyUsage
from infrastructure.cache.memory import MemoryCache
from infrastructure.cache.redis import RedisCache, redis_client
from infrastructure.db.access_reads import SqlAccessReads
from infrastructure.db.engine import create_engine
from tests.auth import issue, with_auth
from tests.services import redis_url_or_skip

SECRET_KEY = b"k" * 32


class CountingHasher(Argon2Hasher):
    def __init__(self) -> None:
        super().__init__("low")
        self.verified = 0

    def verify(self, hashed: str, secret: str) -> bool:
        self.verified += 1
        return super().verify(hashed, secret)


@pytest.fixture
async def engine(db_url: str) -> AsyncIterator[AsyncEngine]:
    e = create_engine(db_url, pool_size=2)
    yield e
    await e.dispose()


@pytest.fixture
async def issued(settings: Any) -> AsyncIterator[IssuedKey]:
    from visapi.bootstrap import bootstrap

    container = bootstrap(with_auth(settings))
    try:
        yield await issue(container, "orders:read")
    finally:
        await container.aclose()


@pytest.fixture
async def redis_namespace() -> AsyncIterator[tuple[str, str]]:
    url, namespace = redis_url_or_skip(), f"visapi-test-{uuid.uuid4().hex[:12]}"
    yield url, namespace
    client = redis_client(url)
    keys = [k async for k in client.scan_iter(match=f"{namespace}:*")]
    if keys:
        await client.delete(*keys)
    await client.aclose()


def checker(engine: AsyncEngine, cache: Cache, hasher: Any, secret_key: bytes = SECRET_KEY) -> Any:
    return partial(
        check_key,
        reads=SqlAccessReads(engine),
        hasher=hasher,
        cache=cache,
        usage=MemoryKeyUsage(),
        digest=key_digest(secret_key),
        ttl_s=900.0,
        now=lambda: datetime.now(UTC),
    )


async def test_memory_the_hash_runs_once_per_key_and_lifetime(
    engine: AsyncEngine, issued: IssuedKey
) -> None:
    now = [0.0]
    hasher = CountingHasher()
    check = checker(engine, MemoryCache(clock=lambda: now[0]), hasher)
    for _ in range(20):
        assert (await check(issued.secret)).id == issued.key.id
    assert hasher.verified == 1
    prefix = issued.key.prefix
    for _ in range(3):  # failures are never cached: each wrong secret is hashed
        with pytest.raises(Unauthenticated):
            await check(f"{prefix}.{'0' * 64}")
    assert hasher.verified == 4
    now[0] += 901  # the cache lifetime (15 minutes) has passed
    await check(issued.secret)
    await check(issued.secret)
    assert hasher.verified == 5


@pytest.mark.redis
async def test_redis_processes_share_checks_under_an_hmac(
    engine: AsyncEngine, issued: IssuedKey, redis_namespace: tuple[str, str]
) -> None:
    url, namespace = redis_namespace
    clients = [redis_client(url) for _ in range(3)]
    try:
        caches = [RedisCache(c, namespace) for c in clients]
        hashers = [CountingHasher() for _ in range(3)]
        one = checker(engine, caches[0], hashers[0])
        two = checker(engine, caches[1], hashers[1])
        other_secret = checker(engine, caches[2], hashers[2], secret_key=b"o" * 32)
        await asyncio.gather(*(one(issued.secret) for _ in range(5)))
        for _ in range(5):
            await two(issued.secret)
        await other_secret(issued.secret)
        # Concurrent first checks in one process may each hash; the other process never does.
        assert hashers[0].verified >= 1
        assert hashers[1].verified == 0
        assert hashers[2].verified == 1  # another HMAC key: another entry
        stored = {k: await clients[0].get(k) for k in await clients[0].keys(f"{namespace}:*")}
        secret = issued.secret.rsplit(".", 1)[1]
        assert any(b"api-key-checks" in k for k in stored)
        for name, value in stored.items():
            assert secret.encode() not in name
            assert secret.encode() not in (value or b"")
        digest = key_digest(SECRET_KEY)(issued.secret).encode()
        assert any(name.endswith(digest) for name in stored)
    finally:
        for client in clients:
            await client.aclose()
