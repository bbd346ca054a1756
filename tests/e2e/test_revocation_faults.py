"""A revoked key, a rotated secret or a demoted role never comes back (issue 11, finding 2):
two app instances share a redis-server of the test's own (as two API processes would), and
that Redis is paused (SIGSTOP: its data survives) or killed and started again empty, before
the change or in the middle of it. Whatever the mutation answered, once Redis is back the old
credential or role is refused on both instances, and nothing it called a failure changed."""

from __future__ import annotations

import subprocess
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import replace
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from app.auth.commands import SetUserRole
from infrastructure.db.tables import api_keys
from tests.auth import errors_of, issue, key, running, token
from tests.e2e.redis_faults import FAULTS, RedisFault, answering, before_update
from visapi.bootstrap import Container
from visapi.settings import Settings

pytestmark = [pytest.mark.postgres, pytest.mark.redis]

ME = "{ me { name role } }"
REVOKE = "mutation($id: ID!) { revokeApiKey(id: $id) { revokedAt } }"
ROTATE = "mutation($id: ID!) { rotateApiKey(id: $id) { secret } }"
DEMOTE = "mutation($id: ID!) { setUserRole(userId: $id, role: VIEWER) { role } }"

Apps = tuple[Container, httpx.AsyncClient, httpx.AsyncClient, RedisFault]


@pytest.fixture(params=FAULTS)
def fault_kind(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@asynccontextmanager
async def two_apps(
    production_settings: Settings, redis: tuple[subprocess.Popen[bytes], str], kind: str
) -> AsyncIterator[Apps]:
    process, url = redis
    settings = replace(production_settings, redis_url=url)
    fault = RedisFault(process, url, kind)
    try:
        async with AsyncExitStack() as stack:
            a, client_a = await stack.enter_async_context(running(settings))
            _, client_b = await stack.enter_async_context(running(settings))
            yield a, client_a, client_b, fault
    finally:
        fault.close()


async def call(
    client: httpx.AsyncClient, query: str, headers: dict[str, str], **variables: Any
) -> httpx.Response:
    return await client.post(
        "/graphql", json={"query": query, "variables": variables}, headers=headers
    )


async def status(client: httpx.AsyncClient, headers: dict[str, str]) -> int:
    return (await call(client, ME, headers)).status_code


def unavailable(response: httpx.Response) -> str:
    [error] = errors_of(response)
    assert error["extensions"]["code"] == "UNAVAILABLE", response.text
    return str(error["message"])


async def revoked_at(container: Container, key_id: str) -> Any:
    async with container.engine.connect() as conn:
        query = select(api_keys.c.revoked_at).where(api_keys.c.id == key_id)
        return (await conn.execute(query)).scalar_one()


async def test_a_revoke_while_redis_is_away_fails_and_changes_nothing(
    production_settings: Settings,
    private_redis: tuple[subprocess.Popen[bytes], str],
    fault_kind: str,
) -> None:
    async with two_apps(production_settings, private_redis, fault_kind) as (a, ca, cb, fault):
        admin = {"X-API-Key": await key(a, "admin")}
        issued = await issue(a, "orders:read", name="used")
        used = {"X-API-Key": issued.secret}
        assert [await status(c, used) for c in (ca, cb)] == [200, 200]  # cached on both

        fault.begin()
        response = await call(ca, REVOKE, admin, id=str(issued.key.id))
        assert "nothing was changed" in unavailable(response)
        assert response.json()["data"] == {"revokeApiKey": None}
        assert await revoked_at(a, str(issued.key.id)) is None
        fault.end()
        await answering(a)

        # Not revoked, so it still works; revoked once Redis confirms, refused everywhere.
        assert [await status(c, used) for c in (ca, cb)] == [200, 200]
        again = await call(ca, REVOKE, admin, id=str(issued.key.id))
        assert again.json()["data"]["revokeApiKey"]["revokedAt"], again.text
        assert [await status(c, used) for c in (cb, ca, cb)] == [401, 401, 401]


async def test_redis_failing_inside_a_revoke_never_lets_the_key_back(
    production_settings: Settings,
    private_redis: tuple[subprocess.Popen[bytes], str],
    fault_kind: str,
) -> None:
    async with two_apps(production_settings, private_redis, fault_kind) as (a, ca, cb, fault):
        admin = {"X-API-Key": await key(a, "admin")}
        issued = await issue(a, "orders:read", name="used")
        used = {"X-API-Key": issued.secret}
        assert [await status(c, used) for c in (ca, cb)] == [200, 200]
        race: list[int] = []

        async def meanwhile() -> None:
            # A check on the other process between the eviction and the commit reads the old
            # row (still valid: 200) and would cache it; then Redis goes away before the commit.
            race.append(await status(cb, used))
            fault.begin()

        with before_update(a.engine, "api_keys", meanwhile) as fired:
            response = await call(ca, REVOKE, admin, id=str(issued.key.id))
        assert fired
        assert race == [200]
        unavailable(response)  # committed, but not confirmed: not a success
        assert await revoked_at(a, str(issued.key.id)) is not None
        fault.end()
        await answering(a)
        assert [await status(c, used) for c in (cb, ca, cb)] == [401, 401, 401]
        # Repeating the revoke confirms it (and lifts the seal).
        again = await call(ca, REVOKE, admin, id=str(issued.key.id))
        assert again.json()["data"]["revokeApiKey"]["revokedAt"], again.text


async def test_redis_failing_inside_a_rotation_keeps_the_new_secret_and_refuses_the_old(
    production_settings: Settings,
    private_redis: tuple[subprocess.Popen[bytes], str],
    fault_kind: str,
) -> None:
    async with two_apps(production_settings, private_redis, fault_kind) as (a, ca, cb, fault):
        admin = {"X-API-Key": await key(a, "admin")}
        issued = await issue(a, "orders:read", name="used")
        old = {"X-API-Key": issued.secret}
        assert [await status(c, old) for c in (ca, cb)] == [200, 200]
        race: list[int] = []

        async def meanwhile() -> None:
            race.append(await status(cb, old))
            fault.begin()

        with before_update(a.engine, "api_keys", meanwhile):
            response = await call(ca, ROTATE, admin, id=str(issued.key.id))
        assert race == [200]
        unavailable(response)
        # The committed secret is answered beside the error: it is the only way into the key.
        secret = response.json()["data"]["rotateApiKey"]["secret"]
        assert secret.startswith(issued.key.prefix + ".")
        fault.end()
        await answering(a)
        assert [await status(c, old) for c in (cb, ca, cb)] == [401, 401, 401]
        new = {"X-API-Key": secret}
        assert [await status(c, new) for c in (ca, cb)] == [200, 200]


async def test_redis_failing_inside_a_demotion_never_gives_the_role_back(
    production_settings: Settings,
    private_redis: tuple[subprocess.Popen[bytes], str],
    fault_kind: str,
) -> None:
    async with two_apps(production_settings, private_redis, fault_kind) as (a, ca, cb, fault):
        admin = {"X-API-Key": await key(a, "admin")}
        person = {"Authorization": f"Bearer {token('sub-boss', 'boss@example.com')}"}
        assert await status(ca, person) == 200  # first sight: created as a viewer
        user = await a.access.reads.user_by_subject("sub-boss")
        assert user is not None
        await a.bus.handle(SetUserRole(user_id=user.id, role="admin"))
        roles = [(await call(c, ME, person)).json()["data"]["me"]["role"] for c in (ca, cb)]
        assert roles == ["ADMIN", "ADMIN"]  # cached on both
        race: list[str] = []

        async def meanwhile() -> None:
            race.append((await call(cb, ME, person)).json()["data"]["me"]["role"])
            fault.begin()

        with before_update(a.engine, "users", meanwhile):
            response = await call(ca, DEMOTE, admin, id=str(user.id))
        assert race == ["ADMIN"]
        unavailable(response)
        fault.end()
        await answering(a)
        for client in (cb, ca, cb):
            assert (await call(client, ME, person)).json()["data"]["me"]["role"] == "VIEWER"
            refused = await call(client, "{ apiKeys { totalCount } }", person)
            assert errors_of(refused)[0]["extensions"]["code"] == "FORBIDDEN"
