"""Authentication and permissions over HTTP, in both modes: 401 for missing or bad credentials,
FORBIDDEN naming the permission, API keys and JWT users through GraphQL, audit events."""

from __future__ import annotations

import json
import time
import uuid
from pathlib import Path

import jwt
import pytest
from sqlalchemy import func, select

from infrastructure.db.tables import events, orders
from tests.auth import AUDIENCE, ISSUER, JWT_SECRET, codes, errors_of, key, running, token
from tests.e2e.gql_support import gql
from visapi.settings import Settings

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "vizi-orders"
ME = "{ me { kind id name role permissions } }"


def api_key(value: str) -> dict[str, str]:
    return {"X-API-Key": value}


def bearer(value: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {value}"}


async def test_anonymous_callers_get_401_only_for_protected_fields(
    app_settings: Settings,
) -> None:
    payload = json.loads((FIXTURES / "il-uk-eta.json").read_text())
    async with running(app_settings) as (container, client):
        open_ = await gql(client, "{ __typename }")
        assert (open_.status_code, open_.json()) == (200, {"data": {"__typename": "Query"}})
        for query in (
            "{ orders { totalCount } }",
            "{ __typename me { name } }",
            "query { ...F } fragment F on Query { apiKeys { totalCount } }",
            "query { ... on Query { users { totalCount } } }",
        ):
            refused = await gql(client, query)
            assert refused.status_code == 401, query
            assert refused.headers["www-authenticate"] == 'Bearer realm="visapi"'
            assert codes(refused) == ["UNAUTHENTICATED"]
            assert refused.json()["data"] is None
        write = await gql(
            client, "mutation($p: JSON!) { createOrder(payload: $p) { __typename } }", p=payload
        )
        assert (write.status_code, codes(write)) == (401, ["UNAUTHENTICATED"])
        async with container.engine.connect() as conn:
            assert (await conn.execute(select(func.count()).select_from(orders))).scalar() == 0


@pytest.mark.parametrize(
    "headers",
    [
        {"X-API-Key": "vk_0000000000000000." + "0" * 64},
        {"X-API-Key": "no-dot"},
        {"X-API-Key": " "},
        {"X-API-Key": "x" * 5000},
        {"Authorization": "Basic dXNlcjpwYXNz"},
        {"Authorization": "Bearer"},
        {"Authorization": "Bearer eyJhbGciOiJIUzI1NiJ9.e30.c2ln"},
        {"Authorization": "Bearer vk_0000000000000000.secret"},
    ],
)
async def test_bad_credentials_are_401_on_every_route_but_health(
    sqlite_url: str, headers: dict[str, str]
) -> None:
    from tests.auth import with_auth

    async with running(with_auth(Settings(database_url=sqlite_url))) as (_, client):
        for method, path in (("POST", "/graphql"), ("GET", "/graphql"), ("GET", "/nowhere")):
            body = {"query": "{ __typename }"} if method == "POST" else None
            response = await client.request(method, path, json=body, headers=headers)
            assert response.status_code == 401, (method, path)
            assert codes(response) == ["UNAUTHENTICATED"]
            assert response.headers["www-authenticate"] == 'Bearer realm="visapi"'
            if "X-API-Key" in headers and headers["X-API-Key"].strip():
                assert headers["X-API-Key"] not in response.text  # never echoed
        for path in ("/api/v1/healthz", "/api/v1/version", "/api/v1/readyz"):
            assert (await client.get(path, headers=headers)).status_code == 200


async def test_non_ascii_credentials_are_401_not_500(sqlite_url: str) -> None:
    from tests.auth import with_auth

    async with running(with_auth(Settings(database_url=sqlite_url))) as (_, client):
        response = await client.post(
            "/graphql",
            json={"query": "{ __typename }"},
            headers=[(b"x-api-key", "vk_é.sécret".encode())],
        )
    assert (response.status_code, codes(response)) == (401, ["UNAUTHENTICATED"])


async def test_keys_work_in_either_header_and_me_says_who(app_settings: Settings) -> None:
    async with running(app_settings) as (container, client):
        full = await key(container, "orders:read", name="dashboard")
        for credential in (api_key(full), bearer(full)):
            me = (await gql(client, ME, credential)).json()["data"]["me"]
            assert (me["kind"], me["name"], me["role"], me["permissions"]) == (
                "API_KEY",
                "dashboard",
                None,
                ["orders:read"],
            )


async def test_tokens_create_viewers_and_bad_tokens_are_401(app_settings: Settings) -> None:
    async with running(app_settings) as (_, client):
        good = token("sub-1", "ops@example.com")
        me = (await gql(client, ME, bearer(good))).json()["data"]["me"]
        assert (me["kind"], me["name"], me["role"]) == ("USER", "ops@example.com", "VIEWER")
        assert me["permissions"] == ["jobs:read", "logs:read", "orders:read", "workflows:read"]
        claims = {"sub": "sub-1", "iss": ISSUER, "aud": AUDIENCE}
        exp = int(time.time()) + 60
        refusals = {
            "token expired": token("sub-1", expires_in=-120),
            "token signature does not verify": token("sub-1", secret="y" * 48),
            "token is for another audience": token("sub-1", aud="another-app"),
            "token is from another issuer": token("sub-1", iss="https://evil.example/"),
            "token has no email claim": jwt.encode({**claims, "exp": exp}, JWT_SECRET),
            "token has no exp claim": jwt.encode({**claims, "email": "e@x.io"}, JWT_SECRET),
            "malformed or unacceptable token": jwt.encode({"sub": "s"}, None, algorithm="none"),
        }
        for message, bad in refusals.items():
            response = await gql(client, ME, bearer(bad))
            assert response.status_code == 401, message
            assert errors_of(response)[0]["message"] == message
        assert (await gql(client, ME, bearer(good))).status_code == 200


async def test_rs256_tokens_by_public_key(sqlite_url: str) -> None:
    from tests.auth import rsa_keys, with_auth

    private, public_pem = rsa_keys()
    settings = with_auth(
        Settings(database_url=sqlite_url), jwt_secret=None, jwt_public_key=public_pem
    )
    async with running(settings) as (_, client):
        signed = token("sub-rs", secret=private, algorithm="RS256")
        me = await gql(client, ME, bearer(signed))
        assert me.json()["data"]["me"]["role"] == "VIEWER"
        # Algorithm confusion: an HS256 token "signed" with the public key is refused.
        forged = token("sub-rs", secret=JWT_SECRET)
        assert (await gql(client, ME, bearer(forged))).status_code == 401


async def test_forbidden_names_the_permission_and_nulls_the_field(
    app_settings: Settings,
) -> None:
    payload = json.loads((FIXTURES / "il-uk-eta.json").read_text())
    async with running(app_settings) as (container, client):
        viewer = bearer(token("sub-viewer"))
        process = "mutation($ids: [ID!]!) { markOrdersProcessed(ids: $ids) }"
        response = await gql(client, process, viewer, ids=[str(uuid.uuid4())])
        assert response.status_code == 200
        [error] = errors_of(response)
        assert error["extensions"] == {"code": "FORBIDDEN", "permission": "orders:write"}
        assert error["message"] == "Missing permission orders:write."
        # The root field is nullable: its null stops there (partial results).
        assert error["path"] == ["markOrdersProcessed"]
        assert response.json()["data"] == {"markOrdersProcessed": None}

        # A write-only key creates orders but cannot read who the customer is back.
        writer = api_key(await key(container, "orders:write"))
        create = """mutation($p: JSON!) { createOrder(payload: $p) {
          ... on OrderAccepted { order { orderId clientName clientEmail clientPhone } } } }"""
        created = await gql(client, create, writer, p=payload)
        order = created.json()["data"]["createOrder"]["order"]
        assert order == {
            "orderId": "IL251101GB07",
            "clientName": None,
            "clientEmail": None,
            "clientPhone": None,
        }
        assert sorted((e["path"][-1], e["extensions"]["code"]) for e in errors_of(created)) == [
            ("clientEmail", "FORBIDDEN"),
            ("clientName", "FORBIDDEN"),
            ("clientPhone", "FORBIDDEN"),
        ]
        reader = await gql(client, "{ orders { edges { node { clientEmail } } } }", viewer)
        assert "errors" not in reader.json()
        assert reader.json()["data"]["orders"]["edges"][0]["node"]["clientEmail"]


async def test_role_changes_take_effect_on_the_next_request(app_settings: Settings) -> None:
    async with running(app_settings) as (container, client):
        # users:admin alone may not hand out the operator role's permissions (see the matrix).
        admin_key = await key(container, "admin")
        admin = api_key(admin_key)
        person = bearer(token("sub-ops", "ops@example.com"))
        process = f'mutation {{ markOrdersProcessed(ids: ["{uuid.uuid4()}"]) }}'
        assert codes(await gql(client, process, person)) == ["FORBIDDEN"]
        listed = await gql(
            client, "{ users { totalCount edges { node { id email role } } } }", admin
        )
        [edge] = listed.json()["data"]["users"]["edges"]
        assert edge["node"]["role"] == "VIEWER"
        set_role = "mutation($id: ID!) { setUserRole(userId: $id, role: OPERATOR) { role } }"
        changed = await gql(client, set_role, admin, id=edge["node"]["id"])
        assert changed.json()["data"]["setUserRole"]["role"] == "OPERATOR"
        allowed = await gql(client, process, person)
        assert allowed.json() == {"data": {"markOrdersProcessed": 0}}
        async with container.engine.connect() as conn:
            audit = (await conn.execute(select(events.c.type, events.c.actor))).all()
        assert ("user.role_changed", f"key:{admin_key.split('.')[0]}") in [tuple(a) for a in audit]
