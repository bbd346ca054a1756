"""Failed authentications counted per IP and key prefix, before the hash and atomically, on
memory (SQLite) and Redis (PostgreSQL), with the real key checks: a credential that verifies is
never blocked by the failures of others."""

from __future__ import annotations

import asyncio
import secrets
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import replace

import pytest

from app.auth.authenticate import Credential, CredentialKind
from app.auth.lockout import LockedOut
from app.errors import Unauthenticated
from domain.auth.permissions import Principal
from tests.auth import drop_namespace, issue, with_auth
from visapi.bootstrap import Container, bootstrap
from visapi.settings import Settings

IP = "10.0.0.1"


@pytest.fixture(params=["memory", "redis"])
def base(request: pytest.FixtureRequest) -> Settings:
    if request.param == "memory":
        return with_auth(Settings(database_url=request.getfixturevalue("sqlite_url")))
    return with_auth(
        Settings(
            database_url=request.getfixturevalue("postgres_url"),
            redis_url=request.getfixturevalue("redis_url"),
            redis_namespace=f"visapi-test-{uuid.uuid4().hex[:10]}",
            db_pool_size=4,
        ),
        secret_key="lockout-test-hmac-key-0123456789abcdef",
    )


@asynccontextmanager
async def container_with(base: Settings, failed_limit: int) -> AsyncIterator[Container]:
    settings = replace(base, rate_limit_failed_auth=failed_limit)
    container = bootstrap(settings)
    try:
        yield container
    finally:
        await container.aclose()
        if settings.redis_url:
            await drop_namespace(settings.redis_url, settings.redis_namespace)


def as_key(value: str) -> Credential:
    return Credential(CredentialKind.API_KEY, value)


def bad_secret(prefix: str) -> Credential:
    return as_key(f"{prefix}.{secrets.token_hex(32)}")


class Checks:
    """The real authentication, counting the calls that reach it (each would hash)."""

    def __init__(self, container: Container) -> None:
        self.calls = 0
        self._authenticate = container.access.authenticate

    async def __call__(self, credential: Credential) -> Principal:
        self.calls += 1
        return await self._authenticate(credential)


async def outcome(container: Container, checks: Checks, credential: Credential) -> int:
    try:
        await container.access.lockout.authenticate(credential, IP, checks)
    except LockedOut:
        return 429
    except Unauthenticated:
        return 401
    return 200


@pytest.mark.parametrize(("limit", "refused", "locked"), [(30, 30, 30), (61, 60, 0)])
async def test_concurrent_bad_secrets_are_counted_before_the_hash(
    base: Settings, limit: int, refused: int, locked: int
) -> None:
    async with container_with(base, limit) as container:
        prefix = (await issue(container, "orders:read")).key.prefix
        checks = Checks(container)
        answers = await asyncio.gather(
            *(outcome(container, checks, bad_secret(prefix)) for _ in range(60))
        )
        assert (answers.count(401), answers.count(429)) == (refused, locked)
        assert checks.calls == refused  # a refused attempt past the limit never reached a hash


async def test_a_valid_key_is_not_blocked_by_failures_of_other_prefixes(base: Settings) -> None:
    async with container_with(base, 30) as container:
        good = (await issue(container, "orders:read")).secret
        other = (await issue(container, "orders:read")).key.prefix
        checks = Checks(container)
        answers = [await outcome(container, checks, bad_secret(other)) for _ in range(35)]
        answers += [await outcome(container, checks, bad_secret("vk_nosuchkey")) for _ in range(35)]
        assert answers.count(429) == 10  # each prefix locked on its 31st failure
        # Never checked before: its check is not cached, and still it verifies.
        assert await outcome(container, checks, as_key(good)) == 200


async def test_a_verified_key_is_admitted_on_its_own_locked_prefix(base: Settings) -> None:
    async with container_with(base, 30) as container:
        issued = await issue(container, "orders:read")
        checks = Checks(container)
        assert await outcome(container, checks, as_key(issued.secret)) == 200  # now cached
        answers = [
            await outcome(container, checks, bad_secret(issued.key.prefix)) for _ in range(35)
        ]
        assert answers == [401] * 30 + [429] * 5
        assert container.access.admit is not None
        admitted = await container.access.admit(as_key(issued.secret))
        assert admitted is not None
        assert admitted.principal.id == issued.key.id
        # The price of never hashing for a locked prefix (app.auth.lockout): that one key,
        # its check not cached, waits out the window from this IP, and no other key does.
        uncached = await issue(container, "orders:read")
        for _ in range(30):
            await outcome(container, checks, bad_secret(uncached.key.prefix))
        assert await outcome(container, checks, as_key(uncached.secret)) == 429


async def test_attempts_that_verify_give_their_count_back(base: Settings) -> None:
    async with container_with(base, 2) as container:
        issued = await issue(container, "orders:read")
        checks = Checks(container)
        prefix = issued.key.prefix
        assert await outcome(container, checks, bad_secret(prefix)) == 401
        # Each reserves a count before its check and gives it back when it verifies: were
        # successes counted, the 2nd of them would be refused.
        for _ in range(4):
            assert await outcome(container, checks, as_key(issued.secret)) == 200
        assert await outcome(container, checks, bad_secret(prefix)) == 401  # the 2nd failure
        assert await outcome(container, checks, bad_secret(prefix)) == 429


async def test_a_burst_of_one_valid_key_with_a_cold_cache_is_never_refused(
    base: Settings,
) -> None:
    async with container_with(base, 30) as container:
        issued = await issue(container, "orders:read")
        checks = Checks(container)
        # The storefront's webhook just after its cached check expired: 60 requests at once.
        answers = await asyncio.gather(
            *(outcome(container, checks, as_key(issued.secret)) for _ in range(60))
        )
        assert answers == [200] * 60
        assert checks.calls == 1  # one check for the burst: they waited for its answer
        assert await outcome(container, checks, bad_secret(issued.key.prefix)) == 401
