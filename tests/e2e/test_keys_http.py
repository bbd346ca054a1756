"""API keys through GraphQL in both modes: create, list (never a hash or secret), rotate,
revoke, with audit actors; and every bad input answered with a code naming the field."""

from __future__ import annotations

import uuid

from sqlalchemy import func, select

from infrastructure.db.tables import api_keys, events
from tests.auth import errors_of, key, running
from tests.e2e.gql_support import gql
from visapi.settings import Settings

ME = "{ me { kind id name role permissions } }"
CREATE_KEY = """mutation($name: String!, $scopes: [String!]!, $days: Int) {
  createApiKey(name: $name, scopes: $scopes, expiresInDays: $days) {
    secret apiKey { id name prefix scopes expiresAt lastUsedAt revokedAt createdBy } } }"""
KEYS = """query($first: Int, $after: String) { apiKeys(first: $first, after: $after) {
  totalCount edges { cursor node { id name prefix scopes revokedAt } }
  pageInfo { hasNextPage endCursor hasPreviousPage startCursor } } }"""


def api_key(value: str) -> dict[str, str]:
    return {"X-API-Key": value}


async def test_key_lifecycle_over_graphql(app_settings: Settings) -> None:
    async with running(app_settings) as (container, client):
        admin_key = await key(container, "admin", name="root")
        admin, admin_prefix = api_key(admin_key), admin_key.split(".")[0]
        created = await gql(client, CREATE_KEY, admin, name="storefront", scopes=["orders:write"])
        issued = created.json()["data"]["createApiKey"]
        node = issued["apiKey"]
        assert issued["secret"].startswith(node["prefix"] + ".")
        assert (node["scopes"], node["createdBy"], node["revokedAt"]) == (
            ["orders:write"],
            f"key:{admin_prefix}",
            None,
        )
        listed = await gql(client, KEYS, admin, first=1)
        assert listed.json()["data"]["apiKeys"]["totalCount"] == 2
        assert listed.json()["data"]["apiKeys"]["pageInfo"]["hasNextPage"] is True
        after = listed.json()["data"]["apiKeys"]["pageInfo"]["endCursor"]
        rest = await gql(client, KEYS, admin, first=5, after=after)
        for page, previous in ((listed, False), (rest, True)):
            conn = page.json()["data"]["apiKeys"]
            info = conn["pageInfo"]
            assert info["hasPreviousPage"] is previous
            assert info["hasNextPage"] is not previous
            assert info["startCursor"] == conn["edges"][0]["cursor"]
            assert info["endCursor"] == conn["edges"][-1]["cursor"]
        names = [e["node"]["name"] for e in listed.json()["data"]["apiKeys"]["edges"]]
        names += [e["node"]["name"] for e in rest.json()["data"]["apiKeys"]["edges"]]
        assert names == ["storefront", "root"]
        for text in (listed.text, rest.text):
            assert "argon2" not in text
            assert issued["secret"].split(".")[1] not in text
            assert admin_key.split(".")[1] not in text

        new = api_key(issued["secret"])
        assert (await gql(client, ME, new)).status_code == 200
        rotate = "mutation($id: ID!) { rotateApiKey(id: $id) { secret apiKey { prefix } } }"
        rotated = (await gql(client, rotate, admin, id=node["id"])).json()["data"]["rotateApiKey"]
        assert rotated["apiKey"]["prefix"] == node["prefix"]
        assert (await gql(client, ME, new)).status_code == 401  # the old secret stopped
        assert (await gql(client, ME, api_key(rotated["secret"]))).status_code == 200
        revoke = "mutation($id: ID!) { revokeApiKey(id: $id) { revokedAt } }"
        revoked = await gql(client, revoke, admin, id=node["id"])
        assert revoked.json()["data"]["revokeApiKey"]["revokedAt"]
        assert (await gql(client, ME, api_key(rotated["secret"]))).status_code == 401

        async with container.engine.connect() as conn:
            audit = (
                await conn.execute(
                    select(events.c.type, events.c.actor).order_by(events.c.occurred_at)
                )
            ).all()
            assert (await conn.execute(select(api_keys.c.hashed_secret))).all()
        assert [tuple(a) for a in audit] == [
            ("api_key.created", "tests"),
            ("api_key.created", f"key:{admin_prefix}"),
            ("api_key.rotated", f"key:{admin_prefix}"),
            ("api_key.revoked", f"key:{admin_prefix}"),
        ]


async def test_key_mutations_refuse_bad_input_with_codes(app_settings: Settings) -> None:
    async with running(app_settings) as (container, client):
        admin = api_key(await key(container, "admin"))
        keys_only = api_key(await key(container, "keys:write", "keys:read"))
        unknown = uuid.uuid4()
        revoke = "mutation($id: ID!) { revokeApiKey(id: $id) { id } }"
        rotate = "mutation($id: ID!) { rotateApiKey(id: $id) { secret } }"
        set_role = "mutation($id: ID!) { setUserRole(userId: $id, role: ADMIN) { id } }"
        bad, days = "INVALID_INPUT", "expiresInDays"
        cases = [
            (CREATE_KEY, admin, {"name": "x", "scopes": ["orders:delete"]}, bad, "scopes"),
            (CREATE_KEY, admin, {"name": "x", "scopes": []}, bad, "scopes"),
            (CREATE_KEY, admin, {"name": " ", "scopes": ["admin"]}, bad, "name"),
            (CREATE_KEY, admin, {"name": "x", "scopes": ["admin"], "days": 0}, bad, days),
            # A key may not mint a key with more than it holds itself.
            (CREATE_KEY, keys_only, {"name": "x", "scopes": ["admin"]}, "FORBIDDEN", "scopes"),
            (revoke, admin, {"id": "nope"}, bad, "id"),
            (revoke, admin, {"id": str(unknown)}, "NOT_FOUND", "id"),
            (rotate, admin, {"id": str(unknown)}, "NOT_FOUND", "id"),
            (KEYS, admin, {"after": "garbage"}, bad, "after"),
            (KEYS, admin, {"first": 101}, bad, "first"),
            (set_role, admin, {"id": str(unknown)}, "NOT_FOUND", "userId"),
        ]
        for query, credential, variables, code, field in cases:
            response = await gql(client, query, credential, **variables)
            assert response.status_code == 200, response.text
            [error] = errors_of(response)
            assert (error["extensions"]["code"], error["extensions"].get("field")) == (code, field)
        async with container.engine.connect() as conn:
            assert (await conn.execute(select(func.count()).select_from(api_keys))).scalar() == 2
