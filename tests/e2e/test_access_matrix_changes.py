"""The permission matrix, continued (tests/e2e/test_access_matrix.py calls each root field as
each caller): the rules of changes to keys and roles (issue 11, finding 1), beyond the field's
own permission. Who may revoke or rotate which key (every scope of the key held), and change
which role (every permission of both roles held, never one's own), for every scope and every
pair of roles, against `domain.auth.permissions.lacking`."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from app.auth.commands import SetUserRole
from domain.auth.permissions import ROLE_PERMISSIONS, Permission, Role, lacking
from tests.auth import errors_of, issue, key, running, token
from visapi.settings import Settings

ME = "{ me { id } }"
ROLE = "{ me { role } }"

KEY_MANAGERS = (("keys:write",), ("keys:write", "orders:read", "logs:read"), ("admin",))
ROLE_CHANGERS = (
    ("users:admin",),
    ("users:admin", *sorted(ROLE_PERMISSIONS[Role.VIEWER])),
    ("users:admin", *sorted(ROLE_PERMISSIONS[Role.OPERATOR])),
    ("admin",),
)
MANAGE = {
    "rotate": "mutation($id: ID!) { rotateApiKey(id: $id) { secret } }",
    "revoke": "mutation($id: ID!) { revokeApiKey(id: $id) { id } }",
}
CHANGE_ROLE = "mutation($id: ID!, $role: Role!) { setUserRole(userId: $id, role: $role) { id } }"


def outcome(response: Any, where: str) -> bool:
    """True when allowed; a refusal must be FORBIDDEN naming what is missing."""
    assert response.status_code == 200, where
    if "errors" not in response.json():
        return True
    [error] = errors_of(response)
    assert error["extensions"]["code"] == "FORBIDDEN", (where, response.text)
    return False


async def test_the_matrix_of_key_and_role_changes(app_settings: Settings) -> None:
    # Each ended secret is tried once more: failures this one client makes on purpose.
    settings = replace(app_settings, rate_limit_failed_auth=10_000)
    async with running(settings) as (container, client):
        checked = 0
        for scopes in KEY_MANAGERS:
            headers = {"X-API-Key": await key(container, *scopes, name="manager")}
            held = frozenset(Permission(s) for s in scopes)
            for permission in Permission:
                for verb, document in MANAGE.items():
                    target = await issue(container, permission.value, name="target")
                    used = {"X-API-Key": target.secret}
                    first = await client.post("/graphql", json={"query": ME}, headers=used)
                    assert first.status_code == 200  # its check is cached now
                    response = await client.post(
                        "/graphql",
                        json={"query": document, "variables": {"id": str(target.key.id)}},
                        headers=headers,
                    )
                    where = f"{scopes} {verb}s a {permission.value} key"
                    missing = lacking(held, {permission})
                    assert outcome(response, where) == (not missing), where
                    if missing:
                        assert all(m in errors_of(response)[0]["message"] for m in missing)
                    # Finding 2: a change that answered success ends the old secret at once.
                    after = await client.post("/graphql", json={"query": ME}, headers=used)
                    assert after.status_code == (200 if missing else 401), where
                    checked += 1

        subject = "sub-matrix-target"
        person_h = {"Authorization": f"Bearer {token(subject)}"}
        first = await client.post("/graphql", json={"query": ME}, headers=person_h)
        assert first.status_code == 200
        person = await container.access.reads.user_by_subject(subject)
        assert person is not None
        for scopes in ROLE_CHANGERS:
            headers = {"X-API-Key": await key(container, *scopes, name="changer")}
            held = frozenset(Permission(s) for s in scopes)
            for before in Role:
                for after in Role:
                    await container.bus.handle(SetUserRole(user_id=person.id, role=before.value))
                    # Cached with the role before (the role it is answered with after).
                    seen = await client.post("/graphql", json={"query": ROLE}, headers=person_h)
                    assert seen.json()["data"]["me"]["role"] == before.name
                    response = await client.post(
                        "/graphql",
                        json={
                            "query": CHANGE_ROLE,
                            "variables": {"id": str(person.id), "role": after.name},
                        },
                        headers=headers,
                    )
                    where = f"{scopes} changes {before.value} to {after.value}"
                    missing = lacking(held, ROLE_PERMISSIONS[before] | ROLE_PERMISSIONS[after])
                    assert outcome(response, where) == (not missing), where
                    now = await client.post("/graphql", json={"query": ROLE}, headers=person_h)
                    role = now.json()["data"]["me"]["role"]
                    assert role == (before if missing else after).name, where
                    checked += 1
        # Nobody changes their own role: an admin user, to each role.
        headers = person_h
        for after in Role:
            await container.bus.handle(SetUserRole(user_id=person.id, role="admin"))
            response = await client.post(
                "/graphql",
                json={
                    "query": CHANGE_ROLE,
                    "variables": {"id": str(person.id), "role": after.name},
                },
                headers=headers,
            )
            assert outcome(response, f"own role to {after.value}") is False
            assert "own role" in errors_of(response)[0]["message"]
            checked += 1
        assert checked == len(KEY_MANAGERS) * len(Permission) * 2 + len(ROLE_CHANGERS) * 9 + 3
