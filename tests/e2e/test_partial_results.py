"""Partial results over HTTP: a caller lacking one permission gets what it may see, and a located
FORBIDDEN error (data and errors together) for the root field it may not, on the query and the
mutation roots; anonymous callers are still refused the whole operation (401). The matrix of
every root field against a key lacking its permission is in test_access_matrix.py."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx

from tests.auth import key, running
from tests.workflow_docs import valid
from visapi.settings import Settings

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "vizi-orders"
ORDER = json.loads((FIXTURES / "il-uk-eta.json").read_text())

BOTH = "{ orders { totalCount } workflows { totalCount } }"
# Leaves of a permitted list (the lean executor's path) beside a refused root field.
LEAVES = """{ workflows(first: 5) { edges { node { id name enabled } }
  pageInfo { hasNextPage hasPreviousPage } } orderStats(groupBy: BRANCH) { key count } }"""
CREATE_ORDER = """mutation($p: JSON!) { createOrder(payload: $p) {
  ... on OrderAccepted { order { id } } } }"""
CREATE_WORKFLOW = """mutation($d: JSON!) { createWorkflow(definition: $d) {
  ... on Workflow { id name } } }"""
# The refused field first: mutations run in order, and the ones after it still run.
MUTATIONS = """mutation($wid: ID!, $oid: ID!) { deleteWorkflow(id: $wid)
  markOrdersProcessed(ids: [$oid]) }"""


async def post(
    client: httpx.AsyncClient, query: str, secret: str | None, **variables: Any
) -> httpx.Response:
    headers = {"X-API-Key": secret} if secret else {}
    return await client.post(
        "/graphql", json={"query": query, "variables": variables}, headers=headers
    )


def without_locations(errors: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{k: v for k, v in e.items() if k != "locations"} for e in errors]


def expected(*refused: tuple[str, str]) -> list[dict[str, Any]]:
    """The FORBIDDEN errors of these (root field, permission) pairs, each at its field's path."""
    return [
        {
            "message": f"Missing permission {permission}.",
            "path": [field],
            "extensions": {"code": "FORBIDDEN", "permission": permission},
        }
        for field, permission in refused
    ]


async def test_a_query_answers_the_permitted_root_fields(app_settings: Settings) -> None:
    async with running(app_settings) as (container, client):
        admin = await key(container, "admin", name="admin")
        made = await post(client, CREATE_WORKFLOW, admin, d=valid(name="Partial"))
        workflow = made.json()["data"]["createWorkflow"]
        assert (await post(client, CREATE_ORDER, admin, p=ORDER)).json()["data"]["createOrder"]
        reader = await key(container, "workflows:read", name="workflows only")

        answer = await post(client, BOTH, reader)
        assert answer.status_code == 200
        body = answer.json()
        assert body["data"] == {"orders": None, "workflows": {"totalCount": 1}}
        assert without_locations(body["errors"]) == expected(("orders", "orders:read"))
        assert body["errors"][0]["locations"] == [{"line": 1, "column": 3}]

        leaves = (await post(client, LEAVES, reader)).json()
        assert leaves["data"] == {
            "workflows": {
                "edges": [
                    {"node": {"id": workflow["id"], "name": "Partial", "enabled": True}},
                ],
                "pageInfo": {"hasNextPage": False, "hasPreviousPage": False},
            },
            "orderStats": None,
        }
        assert without_locations(leaves["errors"]) == expected(("orderStats", "orders:read"))

        # Holding both, the same document answers both, without errors.
        both = (await post(client, BOTH, admin)).json()
        assert both == {"data": {"orders": {"totalCount": 1}, "workflows": {"totalCount": 1}}}


async def test_a_mutation_runs_the_permitted_root_fields(app_settings: Settings) -> None:
    async with running(app_settings) as (container, client):
        admin = await key(container, "admin", name="admin")
        made = await post(client, CREATE_WORKFLOW, admin, d=valid(name="Kept"))
        workflow_id = made.json()["data"]["createWorkflow"]["id"]
        created = await post(client, CREATE_ORDER, admin, p=ORDER)
        order_id = created.json()["data"]["createOrder"]["order"]["id"]
        writer = await key(container, "orders:write", name="orders only")

        answer = await post(client, MUTATIONS, writer, wid=workflow_id, oid=order_id)
        assert answer.status_code == 200
        body = answer.json()
        assert body["data"] == {"deleteWorkflow": None, "markOrdersProcessed": 1}
        assert without_locations(body["errors"]) == expected(("deleteWorkflow", "workflows:write"))

        # The refused mutation changed nothing; the permitted one did.
        check = """query($wid: ID!, $oid: ID!) { workflow(id: $wid) { name }
          order(id: $oid) { processedAt } }"""
        state = (await post(client, check, admin, wid=workflow_id, oid=order_id)).json()["data"]
        assert state["workflow"] == {"name": "Kept"}
        assert state["order"]["processedAt"] is not None


async def test_anonymous_callers_are_still_refused_the_whole_operation(
    app_settings: Settings,
) -> None:
    async with running(app_settings) as (_, client):
        for document in (BOTH, "{ __typename orders { totalCount } }"):
            answer = await post(client, document, None)
            assert answer.status_code == 401
            assert answer.json()["data"] is None
            [error] = answer.json()["errors"]
            assert error["extensions"]["code"] == "UNAUTHENTICATED"
            assert "path" not in error
