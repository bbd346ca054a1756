"""The permission matrix, continued (tests/e2e/test_access_matrix.py calls each root field as
each caller): the rules of changes to keys and roles (issue 11, finding 1), beyond the field's
own permission. Who may revoke or rotate which key (every scope of the key held), and change
which role (every permission of both roles held, never one's own), for every scope and every
pair of roles, against `domain.auth.permissions.lacking`."""

from __future__ import annotations

from typing import Any

from app.auth.commands import SetUserRole
from app.main.settings import Settings
from domain.auth.permissions import ROLE_PERMISSIONS, Permission, Role, lacking
from tests.auth import errors_of, issue, key, running, token

ME = "{ me { id } }"

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
    async with running(app_settings) as (container, client):
        checked = 0
        for scopes in KEY_MANAGERS:
            headers = {"X-API-Key": await key(container, *scopes, name="manager")}
            held = frozenset(Permission(s) for s in scopes)
            for permission in Permission:
                for verb, document in MANAGE.items():
                    target = await issue(container, permission.value, name="target")
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
                    checked += 1

        subject = "sub-matrix-target"
        first = await client.post(
            "/graphql", json={"query": ME}, headers={"Authorization": f"Bearer {token(subject)}"}
        )
        assert first.status_code == 200
        person = await container.access.reads.user_by_subject(subject)
        assert person is not None
        for scopes in ROLE_CHANGERS:
            headers = {"X-API-Key": await key(container, *scopes, name="changer")}
            held = frozenset(Permission(s) for s in scopes)
            for before in Role:
                for after in Role:
                    await container.bus.handle(SetUserRole(user_id=person.id, role=before.value))
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
                    now = await container.access.reads.user_by_subject(subject)
                    assert now is not None
                    assert now.role is (before if missing else after), where
                    checked += 1
        # Nobody changes their own role: an admin user, to each role.
        headers = {"Authorization": f"Bearer {token(subject)}"}
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
