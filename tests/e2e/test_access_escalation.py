"""Privilege escalation through key and role changes (issue 11, finding 1), over HTTP in both
modes: a caller rotates or revokes only keys whose every scope it holds, changes a role only with
every permission of both roles, never its own; each refusal is FORBIDDEN naming what is missing,
and nothing changes."""

from __future__ import annotations

import httpx
from sqlalchemy import select

from app.auth.commands import SetUserRole
from domain.auth.permissions import ROLE_PERMISSIONS, Role
from infrastructure.db.tables import api_keys, events, users
from tests.auth import errors_of, issue, key, running, token
from tests.e2e.gql_support import gql
from visapi.bootstrap import Container
from visapi.settings import Settings

ME = "{ me { name permissions } }"
ROTATE = "mutation($id: ID!) { rotateApiKey(id: $id) { secret } }"
REVOKE = "mutation($id: ID!) { revokeApiKey(id: $id) { revokedAt } }"
SET_ROLE = "mutation($id: ID!, $role: Role!) { setUserRole(userId: $id, role: $role) { role } }"


def refusal(response: httpx.Response) -> str:
    """The message of the one FORBIDDEN error, the mutation answered null."""
    assert response.status_code == 200, response.text
    [error] = errors_of(response)
    assert error["extensions"]["code"] == "FORBIDDEN", response.text
    assert list(response.json()["data"].values()) == [None]  # the root field, not all of data
    return str(error["message"])


async def audit(container: Container) -> list[str]:
    async with container.engine.connect() as conn:
        return list((await conn.execute(select(events.c.type))).scalars())


async def test_a_key_writer_cannot_take_over_or_lock_out_a_stronger_key(
    app_settings: Settings,
) -> None:
    async with running(app_settings) as (container, client):
        root = await issue(container, "admin", name="root")
        writer = {"X-API-Key": await key(container, "keys:write", "orders:read")}
        reader = await issue(container, "orders:read", "orders:write", name="reader")
        before = await audit(container)
        async with container.engine.connect() as conn:
            hashes = dict(
                (await conn.execute(select(api_keys.c.id, api_keys.c.hashed_secret))).all()
            )

        for document in (ROTATE, REVOKE):
            message = refusal(await gql(client, document, writer, id=str(root.key.id)))
            assert "admin" in message, message
            message = refusal(await gql(client, document, writer, id=str(reader.key.id)))
            assert "orders:write" in message, message
            assert "orders:read" not in message, message  # it holds that one

        # Nothing changed: same hashes, no revocation, no event; the admin still gets in.
        async with container.engine.connect() as conn:
            rows = (
                await conn.execute(
                    select(api_keys.c.id, api_keys.c.hashed_secret, api_keys.c.revoked_at)
                )
            ).all()
        assert {r.id: r.hashed_secret for r in rows} == hashes
        assert [r.revoked_at for r in rows] == [None] * len(rows)
        assert await audit(container) == before
        me = await gql(client, ME, {"X-API-Key": root.secret})
        assert me.json()["data"]["me"]["name"] == "root"

        # What it holds itself, it may manage.
        weaker = await issue(container, "orders:read", name="weaker")
        rotated = await gql(client, ROTATE, writer, id=str(weaker.key.id))
        assert rotated.json()["data"]["rotateApiKey"]["secret"].startswith(weaker.key.prefix)
        revoked = await gql(client, REVOKE, writer, id=str(weaker.key.id))
        assert revoked.json()["data"]["revokeApiKey"]["revokedAt"]
        # And an admin manages every key.
        admin = {"X-API-Key": root.secret}
        assert "errors" not in (await gql(client, REVOKE, admin, id=str(reader.key.id))).json()


async def user_id(container: Container, subject: str, client: httpx.AsyncClient, role: str) -> str:
    """A user of `role`, created by their first token as the gate does."""
    headers = {"Authorization": f"Bearer {token(subject)}"}
    assert (await client.post("/graphql", json={"query": ME}, headers=headers)).status_code == 200
    found = await container.access.reads.user_by_subject(subject)
    assert found is not None
    await container.bus.handle(SetUserRole(user_id=found.id, role=role))
    return str(found.id)


async def roles(container: Container) -> dict[str, str]:
    async with container.engine.connect() as conn:
        return {str(i): r for i, r in (await conn.execute(select(users.c.id, users.c.role))).all()}


async def test_role_changes_need_both_roles_permissions_and_never_ones_own(
    app_settings: Settings,
) -> None:
    async with running(app_settings) as (container, client):
        viewer = await user_id(container, "sub-viewer", client, "viewer")
        operator = await user_id(container, "sub-operator", client, "operator")
        boss = await user_id(container, "sub-boss", client, "admin")
        other_admin = await user_id(container, "sub-other-admin", client, "admin")
        user_admin = {"X-API-Key": await key(container, "users:admin")}
        as_boss = {"Authorization": f"Bearer {token('sub-boss')}"}
        before, audited = await roles(container), await audit(container)

        refusals = [
            # users:admin alone: it cannot hand out, nor take away, what it does not hold.
            (user_admin, viewer, "ADMIN", "admin"),
            (user_admin, viewer, "OPERATOR", "orders:write"),
            (user_admin, operator, "VIEWER", "orders:write"),
            (user_admin, boss, "VIEWER", "admin"),
            # Nobody changes their own role, not even an admin.
            (as_boss, boss, "VIEWER", "own role"),
        ]
        for caller, target, role, named in refusals:
            message = refusal(await gql(client, SET_ROLE, caller, id=target, role=role))
            assert named in message, (target, role, message)
        assert await roles(container) == before
        assert await audit(container) == audited

        # Holding both roles' permissions is enough; an admin may demote another admin.
        operator_keys = {
            "X-API-Key": await key(
                container, "users:admin", *sorted(ROLE_PERMISSIONS[Role.OPERATOR])
            )
        }
        promoted = await gql(client, SET_ROLE, operator_keys, id=viewer, role="OPERATOR")
        assert promoted.json()["data"]["setUserRole"]["role"] == "OPERATOR"
        demoted = await gql(client, SET_ROLE, as_boss, id=other_admin, role="VIEWER")
        assert demoted.json()["data"]["setUserRole"]["role"] == "VIEWER"
