"""The response cache's stores (app.responses.ResponseStore) on memory and Redis: entries keyed
by the generations of the prefixes they depend on, so the Cache's `evict` and `seal` reach
them; a store computed before an eviction is dropped; Redis down is a miss; max age expires;
the admission (auth and rate limit) looks an answer up in its own call."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime

import orjson
import pytest
import redis.asyncio
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff

from app.auth.keys import KEY_CHECKS
from app.auth.ports import Admissions
from app.ports import Cache
from app.responses import Probe, ResponseStore, caller_key
from infrastructure.cache.admission import MemoryAdmissions, RedisAdmissions
from infrastructure.cache.key_usage import MemoryKeyUsage, RedisKeyUsage
from infrastructure.cache.memory import MemoryCache
from infrastructure.cache.rate_limits import MemoryRateLimiter, RedisRateLimiter
from infrastructure.cache.redis import RedisCache
from infrastructure.cache.responses import MemoryResponses, RedisResponses
from tests.clocks import FakeClock
from tests.integration.conftest import redis_caches

DEPENDS = ("order", "orders")


@dataclass
class Backend:
    cache: Cache
    store: ResponseStore


@pytest.fixture(params=["memory", "redis"])
async def backend(request: pytest.FixtureRequest) -> AsyncIterator[Backend]:
    if request.param == "memory":
        memory = MemoryCache()
        yield Backend(memory, MemoryResponses(memory))
    else:
        async with redis_caches(1) as (only,):
            yield Backend(only, RedisResponses(only))


async def test_an_entry_is_found_under_the_generations_it_was_stored_in(backend: Backend) -> None:
    body, generations = await backend.store.lookup("k1", DEPENDS)
    assert body is None
    assert generations is not None
    await backend.store.store("k1", DEPENDS, generations, b'{"data":1}', 30)
    assert await backend.store.lookup("k1", DEPENDS) == (b'{"data":1}', generations)
    assert (await backend.store.lookup("k2", DEPENDS))[0] is None  # another key


async def test_evicting_any_prefix_it_depends_on_drops_it(backend: Backend) -> None:
    for evicted in DEPENDS:
        _, generations = await backend.store.lookup("k", DEPENDS)
        assert generations is not None
        await backend.store.store("k", DEPENDS, generations, b"x", 30)
        assert (await backend.store.lookup("k", DEPENDS))[0] == b"x"
        await backend.cache.evict(evicted)
        body, after = await backend.store.lookup("k", DEPENDS)
        assert body is None
        assert after != generations
    await backend.cache.evict("order-stats")  # a prefix it does not depend on
    _, generations = await backend.store.lookup("k", DEPENDS)
    assert generations is not None
    await backend.store.store("k", DEPENDS, generations, b"y", 30)
    await backend.cache.evict("order-stats")
    assert (await backend.store.lookup("k", DEPENDS))[0] == b"y"


async def test_an_answer_computed_across_an_eviction_is_not_stored(backend: Backend) -> None:
    _, before = await backend.store.lookup("k", DEPENDS)
    assert before is not None
    await backend.cache.evict("orders")  # a write commits while the read runs
    await backend.store.store("k", DEPENDS, before, b"stale", 30)
    assert (await backend.store.lookup("k", DEPENDS))[0] is None


async def test_nothing_is_stored_while_a_prefix_is_sealed(backend: Backend) -> None:
    await backend.cache.seal("order", "token")
    _, generations = await backend.store.lookup("k", DEPENDS)
    assert generations is not None
    await backend.store.store("k", DEPENDS, generations, b"sealed", 30)
    assert (await backend.store.lookup("k", DEPENDS))[0] is None
    await backend.cache.unseal("order", "token")
    _, generations = await backend.store.lookup("k", DEPENDS)
    assert generations is not None
    await backend.store.store("k", DEPENDS, generations, b"open", 30)
    assert (await backend.store.lookup("k", DEPENDS))[0] == b"open"


async def test_memory_entries_expire_at_their_max_age() -> None:
    clock = FakeClock()
    memory = MemoryCache(clock=clock)
    store = MemoryResponses(memory)
    _, generations = await store.lookup("k", DEPENDS)
    assert generations is not None
    await store.store("k", DEPENDS, generations, b"x", 30)
    clock.advance(29.9)
    assert (await store.lookup("k", DEPENDS))[0] == b"x"
    clock.advance(0.2)
    assert (await store.lookup("k", DEPENDS))[0] is None


async def test_redis_entries_carry_their_max_age_as_expiry() -> None:
    async with redis_caches(1) as (cache,):
        store = RedisResponses(cache)
        _, generations = await store.lookup("k", DEPENDS)
        assert generations is not None
        await store.store("k", DEPENDS, generations, b"x", 30)
        keys = [k async for k in cache.client.scan_iter(match=f"{cache.namespace}:rc:*")]
        assert len(keys) == 1
        assert 0 < await cache.client.pttl(keys[0]) <= 30_000


async def test_redis_down_is_a_miss_and_stores_nothing() -> None:
    # Nothing listens on port 1: every call fails at once.
    client = redis.asyncio.Redis(
        port=1, socket_connect_timeout=0.5, socket_timeout=0.5, retry=Retry(NoBackoff(), 0)
    )
    try:
        store = RedisResponses(RedisCache(client, "visapi-down"))
        assert await store.lookup("k", DEPENDS) == (None, None)
        await store.store("k", DEPENDS, "0.0", b"x", 30)  # skipped, not raised
        assert store.failures == 2
    finally:
        await client.aclose()


def admissions_of(backend: Backend) -> Admissions:
    if isinstance(backend.cache, RedisCache):
        client, namespace = backend.cache.client, backend.cache.namespace
        return RedisAdmissions(
            backend.cache,
            RedisRateLimiter(client, namespace),
            RedisKeyUsage(client, namespace),
        )
    assert isinstance(backend.cache, MemoryCache)
    return MemoryAdmissions(backend.cache, MemoryRateLimiter(), MemoryKeyUsage())


async def test_the_admission_looks_the_answer_up_in_the_same_call(backend: Backend) -> None:
    held = ["logs:read", "orders:read"]  # sorted, as cached checks store them
    check = {"kind": "api_key", "id": str(uuid.uuid4()), "permissions": held, "exp": None}
    await backend.cache.set(KEY_CHECKS, "entry", orjson.dumps(check), 60)
    admissions = admissions_of(backend)
    probe = Probe("base", "other", DEPENDS, 60)

    async def admit() -> tuple[bytes | None, str] | None:
        admission = await admissions.admit(
            KEY_CHECKS,
            "entry",
            limit=100,
            window_s=60,
            at=datetime.now(UTC),
            mark_usage=False,
            probe=probe,
        )
        assert admission is not None
        assert admission.cached is not None
        return admission.answer

    answer = await admit()
    assert answer is not None
    body, generations = answer
    assert body is None
    assert (None, generations) == await backend.store.lookup(caller_key("base", held), DEPENDS)
    await backend.store.store(caller_key("base", held), DEPENDS, generations, b"answer", 30)
    assert await admit() == (b"answer", generations)
    await backend.cache.evict("order")
    answer = await admit()
    assert answer is not None
    assert answer[0] is None
    assert answer[1] != generations
    # Another permission set never reaches it.
    await backend.store.store(caller_key("base", ["orders:read"]), DEPENDS, answer[1], b"x", 30)
    assert (await admit()) == (None, answer[1])
