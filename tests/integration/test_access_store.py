"""Keys and users against a real database (both dialects): what is stored, the checks, the
cached slow hash, revoke/rotate, just-in-time users, audit events and the usage flush."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import event, select
from sqlalchemy.ext.asyncio import AsyncEngine

from app.auth.authenticate import Credential, CredentialKind
from app.auth.commands import RevokeApiKey, RotateApiKey, SetUserRole
from app.errors import Unauthenticated
from domain.auth.permissions import Permission, PrincipalKind, Role
from infrastructure.db.tables import api_keys, events, users
from tests.auth import issue, token, with_auth
from tests.maintenance import run_maintenance
from visapi.bootstrap import Container, bootstrap
from visapi.settings import Settings


class Clock:
    def __init__(self) -> None:
        self.now = datetime.now(UTC).replace(microsecond=0)

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
async def container(settings: Settings, clock: Clock) -> AsyncIterator[Container]:
    c = bootstrap(with_auth(settings), now=clock)
    try:
        yield c
    finally:
        await c.aclose()


def as_key(value: str) -> Credential:
    return Credential(CredentialKind.API_KEY, value)


def as_token(value: str) -> Credential:
    return Credential(CredentialKind.TOKEN, value)


async def rows(engine: AsyncEngine, stmt: Any) -> list[Any]:
    async with engine.connect() as conn:
        return list((await conn.execute(stmt)).mappings())


@contextmanager
def statements(engine: AsyncEngine) -> Iterator[list[str]]:
    seen: list[str] = []

    def record(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        seen.append(" ".join(statement.split()))

    event.listen(engine.sync_engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(engine.sync_engine, "before_cursor_execute", record)


async def test_a_created_key_is_stored_as_a_hash_and_audited(container: Container) -> None:
    issued = await issue(container, "orders:read", " orders:read", name="dashboard")
    prefix, secret = issued.secret.rsplit(".", 1)
    [row] = await rows(container.engine, select(api_keys))
    assert row["prefix"] == prefix == issued.key.prefix
    assert row["hashed_secret"].startswith("$argon2id$")
    assert secret not in row["hashed_secret"]
    assert row["scopes"] == ["orders:read"]
    assert row["expires_at"] - row["created_at"] == timedelta(days=90)
    assert (row["created_by"], row["last_used_at"], row["revoked_at"]) == ("tests", None, None)
    [audit] = await rows(container.engine, select(events))
    assert (audit["type"], audit["actor"], audit["aggregate_id"]) == (
        "api_key.created",
        "tests",
        row["id"],
    )
    assert audit["payload"]["prefix"] == prefix
    assert secret not in str(audit["payload"])
    principal = await container.access.authenticate(as_key(issued.secret))
    assert (principal.kind, principal.name, principal.id) == (
        PrincipalKind.API_KEY,
        "dashboard",
        row["id"],
    )
    assert principal.permissions == {Permission.ORDERS_READ}


async def test_checks_refuse_bad_unknown_revoked_and_expired_keys(
    container: Container, clock: Clock
) -> None:
    good = (await issue(container, "orders:read", expires_in_days=1)).secret
    prefix, secret = good.rsplit(".", 1)
    cases = {
        f"{prefix}.{'0' * 64}": "invalid API key",
        f"vk_ffffffffffffffff.{secret}": "invalid API key",
        "not a key": "malformed API key",
        prefix: "malformed API key",
    }
    for presented, message in cases.items():
        with pytest.raises(Unauthenticated, match=message):
            await container.access.authenticate(as_key(presented))
    await container.access.authenticate(as_key(good))  # cached from here on
    clock.now += timedelta(days=1)
    with pytest.raises(Unauthenticated, match="expired"):
        await container.access.authenticate(as_key(good))
    revoked = await issue(container, "orders:read")
    await container.bus.handle(RevokeApiKey(id=revoked.key.id, actor="tests"))
    with pytest.raises(Unauthenticated, match="revoked"):
        await container.access.authenticate(as_key(revoked.secret))


async def test_revoke_and_rotate_evict_the_cached_check_and_are_audited(
    container: Container,
) -> None:
    first, second = await issue(container, "admin"), await issue(container, "orders:read")
    for issued in (first, second):
        await container.access.authenticate(as_key(issued.secret))  # now cached
    revoked = await container.bus.handle(RevokeApiKey(id=first.key.id, actor="user:u1"))
    assert revoked.revoked_at is not None
    again = await container.bus.handle(RevokeApiKey(id=first.key.id, actor="user:u1"))
    assert again.revoked_at == revoked.revoked_at  # idempotent: no second event below
    with pytest.raises(Unauthenticated, match="revoked"):
        await container.access.authenticate(as_key(first.secret))

    rotated = await container.bus.handle(RotateApiKey(id=second.key.id, actor="key:vk_x"))
    assert rotated.key.prefix == second.key.prefix
    assert rotated.secret != second.secret
    with pytest.raises(Unauthenticated, match="invalid API key"):
        await container.access.authenticate(as_key(second.secret))
    assert (await container.access.authenticate(as_key(rotated.secret))).id == second.key.id
    audit = await rows(
        container.engine, select(events.c.type, events.c.actor).order_by(events.c.occurred_at)
    )
    assert [(a["type"], a["actor"]) for a in audit][2:] == [
        ("api_key.revoked", "user:u1"),
        ("api_key.rotated", "key:vk_x"),
    ]


async def test_a_revoke_racing_a_first_check_leaves_no_valid_entry(container: Container) -> None:
    issued = await issue(container, "orders:read")
    reads = container.access.reads
    real = reads.key_by_prefix
    calls = 0

    async def revoke_right_after_the_first_read(prefix: str) -> Any:
        nonlocal calls
        calls += 1
        found = await real(prefix)
        if calls == 1:  # the revoke commits (and evicts) before the check caches its result
            await container.bus.handle(RevokeApiKey(id=issued.key.id))
        return found

    reads.key_by_prefix = revoke_right_after_the_first_read  # type: ignore[method-assign]
    with pytest.raises(Unauthenticated, match="revoked"):
        await container.access.authenticate(as_key(issued.secret))
    with pytest.raises(Unauthenticated, match="revoked"):
        await container.access.authenticate(as_key(issued.secret))
    assert calls == 3  # read, re-read after caching, then a fresh check (nothing was cached)


async def test_usage_is_written_by_the_flush_in_one_statement(
    container: Container, clock: Clock
) -> None:
    keys = [await issue(container, "orders:read", name=f"k{n}") for n in range(3)]
    with statements(container.engine) as seen:
        for n in range(30):
            clock.now += timedelta(seconds=1)
            await container.access.authenticate(as_key(keys[n % 3].secret))
        writes = [s for s in seen if not s.upper().startswith(("SELECT", "BEGIN"))]
        assert writes == []  # thirty authenticated requests, no write
        stored = await rows(container.engine, select(api_keys.c.last_used_at))
        assert [r["last_used_at"] for r in stored] == [None] * 3
        seen.clear()
        ran = await run_maintenance(container)
        assert "flush_key_usage" in ran
        updates = [s for s in seen if s.upper().startswith("UPDATE API_KEYS")]
        assert len(updates) == 1, seen
    last = {r["name"]: r["last_used_at"] for r in await rows(container.engine, select(api_keys))}
    assert last == {f"k{n}": clock.now - timedelta(seconds=2 - n) for n in range(3)}
    assert await container.access.flush_usage() == 0  # drained: nothing left to write


async def test_users_are_created_on_first_token_as_viewers(container: Container) -> None:
    bearer = token("sub-ada", "Ada@Example.com")
    results = await asyncio.gather(
        *(container.access.authenticate(as_token(bearer)) for _ in range(5))
    )
    assert {p.id for p in results} == {results[0].id}  # five racing first requests, one user
    [user] = await rows(container.engine, select(users))
    assert (user["email"], user["role"], user["external_subject"]) == (
        "ada@example.com",
        "viewer",
        "sub-ada",
    )
    assert results[0].permissions == {
        Permission.ORDERS_READ,
        Permission.LOGS_READ,
        Permission.WORKFLOWS_READ,
        Permission.JOBS_READ,
    }
    await container.bus.handle(SetUserRole(user_id=user["id"], role="operator", actor="key:vk_a"))
    principal = await container.access.authenticate(as_token(bearer))
    assert principal.role is Role.OPERATOR  # the cached viewer was evicted
    audit = await rows(container.engine, select(events).order_by(events.c.occurred_at))
    assert [(a["type"], a["actor"]) for a in audit] == [
        ("user.created", f"user:{user['id']}"),
        ("user.role_changed", "key:vk_a"),
    ]
    assert audit[1]["payload"] == {"old_role": "viewer", "new_role": "operator"}
    # Another identity claiming the same email does not take the account over.
    with pytest.raises(Unauthenticated, match="another identity"):
        await container.access.authenticate(as_token(token("sub-mallory", "ada@example.com")))
