"""Every root field against every kind of caller, checked against the one permission table.

The schema walk fails on any root field that declares no permission, and on any personal field
(graph.personal: by its table, and by name) without its permission; the matrix calls each root
field over HTTP as anonymous, as each role (JWT users) and with a key of each single permission,
and checks allow/deny against `ROLE_PERMISSIONS` and `grants`. The personal-data matrix is in
test_access_matrix_personal.py, the matrix of key and role changes in
test_access_matrix_changes.py, the one of reserved run-context keys in
test_access_matrix_context.py.
"""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any

import strawberry
from graphql import GraphQLObjectType, is_non_null_type

from app.auth.commands import SetUserRole
from domain.auth.permissions import ROLE_PERMISSIONS, Permission, Role, grants
from graph.permissions import declared, requires
from graph.personal import NOT_PERSONAL, PERSONAL, undeclared_personal
from graph.schema import build_schema, schema
from tests.auth import codes, errors_of, key, running, token
from visapi.settings import Settings

ME = "{ me { id } }"
FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "vizi-orders"
# DOMAIN.md "grants" column, by root field: pinned so a declaration cannot drift unnoticed.
DOMAIN_GRANTS: dict[str, str | None] = {
    "Query.order": "orders:read",
    "Query.orders": "orders:read",
    "Query.orderStats": "orders:read",
    "Query.apiKeys": "keys:read",
    "Query.me": None,  # any valid credentials
    "Query.users": "users:admin",
    "Query.sandboxMessages": "jobs:read",
    "Query.logs": "logs:read",
    "Query.logStats": "logs:read",
    "Mutation.createOrder": "orders:write",
    "Mutation.markOrdersProcessed": "orders:write",
    "Mutation.createApiKey": "keys:write",
    "Mutation.revokeApiKey": "keys:write",
    "Mutation.rotateApiKey": "keys:write",
    "Mutation.setUserRole": "users:admin",
    "Mutation.resyncContact": "orders:write",
    "Mutation.resendConfirmation": "orders:write",
    "Mutation.retriggerOrder": "orders:write",
    "Query.failedJobs": "jobs:read",
    "Query.queueStats": "jobs:read",
    "Mutation.replayFailedJob": "jobs:write",
    "Mutation.replayFailedJobs": "jobs:write",
    "Query.cacheStats": "cache:admin",
    "Mutation.flushCache": "cache:admin",
    "Mutation.warmCache": "cache:admin",
    "Mutation.replayEvents": "cache:admin",
    "Query.workflows": "workflows:read",
    "Query.workflow": "workflows:read",
    "Query.validateWorkflow": "workflows:read",
    "Query.workflowRuns": "workflows:read",
    "Query.workflowRun": "workflows:read",
    "Mutation.createWorkflow": "workflows:write",
    "Mutation.updateWorkflow": "workflows:write",
    "Mutation.setWorkflowEnabled": "workflows:write",
    "Mutation.deleteWorkflow": "workflows:write",
    "Mutation.runWorkflow": "workflows:run",
    "Mutation.cancelWorkflowRun": "workflows:run",
    "Query.bulkOperation": "orders:read",
    "Query.bulkOperations": "orders:read",
    "Mutation.markOrdersProcessedWhere": "orders:write",
    "Mutation.resyncContactsWhere": "orders:write",
    "Mutation.resendConfirmationsWhere": "orders:write",
    "Mutation.retriggerOrdersWhere": "orders:write",
    "Mutation.cancelBulkOperation": "orders:write",
    "Query.exportCustomerData": "admin",
    "Mutation.eraseCustomerData": "admin",
}

_ANY = str(uuid.UUID(int=7))
_TEST_ORDER = json.loads((FIXTURES / "il-test-order.json").read_text())  # skipped: no side effect
# One harmless call per root field; allowed calls may answer NOT_FOUND, never a refusal.
DOCUMENTS: dict[str, tuple[str, dict[str, Any]]] = {
    "Query.cacheStats": ("{ cacheStats { prefix } }", {}),
    "Mutation.flushCache": ('mutation { flushCache(pattern: "order-stats:*") }', {}),
    "Mutation.warmCache": ("mutation { warmCache { name } }", {}),
    "Mutation.replayEvents": (
        'mutation { replayEvents(from: "2000-01-01T00:00:00Z", to: "2000-01-02T00:00:00Z")'
        " { type } }",
        {},
    ),
    "Query.order": ("query($id: ID) { order(id: $id) { id } }", {"id": _ANY}),
    "Query.orders": ("{ orders(first: 1) { totalCount } }", {}),
    "Query.orderStats": ("{ orderStats(groupBy: BRANCH) { key } }", {}),
    "Query.apiKeys": ("{ apiKeys(first: 1) { totalCount } }", {}),
    "Query.logs": ("{ logs(first: 1) { totalCount } }", {}),
    "Query.logStats": ("{ logStats { total } }", {}),
    "Query.me": ("{ me { kind } }", {}),
    "Query.users": ("{ users(first: 1) { totalCount } }", {}),
    "Query.sandboxMessages": ("{ sandboxMessages(first: 1) { totalCount } }", {}),
    "Mutation.createOrder": (
        "mutation($p: JSON!) { createOrder(payload: $p) { __typename } }",
        {"p": _TEST_ORDER},
    ),
    "Mutation.markOrdersProcessed": (
        "mutation($ids: [ID!]!) { markOrdersProcessed(ids: $ids) }",
        {"ids": [_ANY]},
    ),
    # keys:write is what every caller allowed here holds, so the scope check never refuses.
    "Mutation.createApiKey": (
        'mutation { createApiKey(name: "matrix", scopes: ["keys:write"]) { apiKey { id } } }',
        {},
    ),
    "Mutation.revokeApiKey": ("mutation($id: ID!) { revokeApiKey(id: $id) { id } }", {"id": _ANY}),
    "Mutation.rotateApiKey": (
        "mutation($id: ID!) { rotateApiKey(id: $id) { secret } }",
        {"id": _ANY},
    ),
    "Mutation.setUserRole": (
        "mutation($id: ID!) { setUserRole(userId: $id, role: ADMIN) { id } }",
        {"id": _ANY},
    ),
    # Unknown order: answered OrderNotFound, nothing queued.
    "Mutation.resyncContact": (
        "mutation($id: ID!) { resyncContact(orderId: $id) { __typename } }",
        {"id": _ANY},
    ),
    "Mutation.resendConfirmation": (
        "mutation($id: ID!) { resendConfirmation(orderId: $id) { __typename } }",
        {"id": _ANY},
    ),
    "Mutation.retriggerOrder": (
        "mutation($id: ID!) { retriggerOrder(orderId: $id) { __typename } }",
        {"id": _ANY},
    ),
    "Query.failedJobs": ("{ failedJobs(first: 1) { totalCount } }", {}),
    "Query.queueStats": ("{ queueStats { queue } }", {}),
    "Mutation.replayFailedJob": (
        "mutation($id: ID!) { replayFailedJob(id: $id) { __typename } }",
        {"id": _ANY},
    ),
    "Mutation.replayFailedJobs": ("mutation { replayFailedJobs { count } }", {}),
    "Query.workflows": ("{ workflows(first: 1) { totalCount } }", {}),
    "Query.workflow": ("query($id: ID!) { workflow(id: $id) { id } }", {"id": _ANY}),
    "Query.validateWorkflow": (
        "query($d: JSON!) { validateWorkflow(definition: $d) { valid } }",
        {"d": {}},
    ),
    "Query.workflowRuns": ("{ workflowRuns(first: 1) { totalCount } }", {}),
    "Query.workflowRun": ("query($id: ID!) { workflowRun(id: $id) { id } }", {"id": _ANY}),
    # An invalid definition: refused in the result union, nothing stored.
    "Mutation.createWorkflow": (
        "mutation($d: JSON!) { createWorkflow(definition: $d) { __typename } }",
        {"d": {}},
    ),
    "Mutation.updateWorkflow": (
        "mutation($id: ID!) { updateWorkflow(id: $id, definition: {}) { __typename } }",
        {"id": _ANY},
    ),
    "Mutation.setWorkflowEnabled": (
        "mutation($id: ID!) { setWorkflowEnabled(id: $id, enabled: true) { id } }",
        {"id": _ANY},
    ),
    "Mutation.deleteWorkflow": ("mutation($id: ID!) { deleteWorkflow(id: $id) }", {"id": _ANY}),
    "Mutation.runWorkflow": ("mutation($id: ID!) { runWorkflow(id: $id) { id } }", {"id": _ANY}),
    "Mutation.cancelWorkflowRun": (
        "mutation($id: ID!) { cancelWorkflowRun(id: $id) { id } }",
        {"id": _ANY},
    ),
    "Query.bulkOperation": ("query($id: ID!) { bulkOperation(id: $id) { id } }", {"id": _ANY}),
    "Query.bulkOperations": ("{ bulkOperations(first: 1) { edges { cursor } } }", {}),
    # Bulk operations over no order at all: each finishes at once, changing nothing.
    **{
        f"Mutation.{name}": (
            f"mutation($f: OrderFilter!) {{ {name}(filter: $f) {{ total }} }}",
            {"f": {"clientEmail": "nobody@matrix.invalid"}},
        )
        for name in (
            "markOrdersProcessedWhere",
            "resyncContactsWhere",
            "resendConfirmationsWhere",
            "retriggerOrdersWhere",
        )
    },
    "Mutation.cancelBulkOperation": (
        "mutation($id: ID!) { cancelBulkOperation(id: $id) { status } }",
        {"id": _ANY},
    ),
    "Query.exportCustomerData": (
        "query($e: String) { exportCustomerData(email: $e) }",
        {"e": "nobody@matrix.invalid"},
    ),
    "Mutation.eraseCustomerData": (  # nobody: finishes at once, erasing nothing
        "mutation($e: String) { eraseCustomerData(email: $e) { total } }",
        {"e": "nobody@matrix.invalid"},
    ),
}


def root_fields(gql_schema: Any) -> dict[str, Any]:
    roots: list[GraphQLObjectType] = [gql_schema.query_type, gql_schema.mutation_type]
    roots = [r for r in roots if r is not None]
    return {f"{root.name}.{name}": field for root in roots for name, field in root.fields.items()}


def undeclared(gql_schema: Any) -> list[str]:
    """Root fields without a permission declaration, then personal fields without theirs."""
    missing = [name for name, field in root_fields(gql_schema).items() if declared(field) is None]
    return missing + undeclared_personal(gql_schema)


def test_every_root_field_and_pii_field_declares_a_permission() -> None:
    assert undeclared(schema._schema) == []
    assert {"clientEmail", "clientPhone"} <= set(schema._schema.get_type("Order").fields)


def test_root_fields_a_permission_can_deny_are_nullable() -> None:
    """A refused non-null root field would null `data` whole: the caller would lose the fields
    it may see. `me` needs credentials only, and anonymous callers are refused the whole
    operation (401) before any field runs, so no caller ever gets it refused."""
    fields = root_fields(schema._schema)
    non_null = [name for name, field in fields.items() if is_non_null_type(field.type)]
    assert non_null == ["Query.me"]
    requires = declared(fields["Query.me"])
    assert requires is not None
    assert requires.permission is None


def test_personal_fields_are_nullable_and_the_tables_name_real_fields() -> None:
    """A refused non-null field would null its parent too: the rest of the answer must stay."""
    gql_schema = schema._schema
    for (type_name, field_name), permission in PERSONAL.items():
        field = gql_schema.get_type(type_name).fields[field_name]
        # Every path to a User needs users:admin already: its email is never refused.
        assert permission is Permission.USERS_ADMIN or not is_non_null_type(field.type), field_name
    for type_name, field_name in NOT_PERSONAL:  # no stale reasons
        assert field_name in gql_schema.get_type(type_name).fields, (type_name, field_name)


@strawberry.type(name="Order")
class LeakyOrder:
    client_email: str
    client_phone: str = strawberry.field(extensions=requires(Permission.ORDERS_READ))
    # New personal fields nobody declared: found by name, whatever the type.
    passport_number: str
    sandbox_payload: strawberry.scalars.JSON


@strawberry.type(name="Query")
class LeakyQuery:
    @strawberry.field
    def leak(self) -> str:
        return "secret"


@strawberry.type(name="Mutation")
class LeakyMutation:
    @strawberry.mutation
    def order(self) -> LeakyOrder:
        raise NotImplementedError


def test_the_walk_catches_undeclared_fields() -> None:
    leaky = strawberry.Schema(query=LeakyQuery, mutation=LeakyMutation)
    assert undeclared(leaky._schema) == [
        "Query.leak",
        "Mutation.order",
        "Order.clientEmail",  # in the table, not declared on the field
        "Order.passportNumber",  # in neither table, found by name
        "Order.sandboxPayload",
    ]


def test_declarations_match_the_domain_table() -> None:
    found = {
        name: (req.permission.value if req.permission else None)
        for name, field in root_fields(schema._schema).items()
        if (req := declared(field)) is not None
    }
    assert found == DOMAIN_GRANTS
    assert set(DOCUMENTS) == set(DOMAIN_GRANTS)  # a new root field needs a matrix document
    # Declarations describe themselves in the SDL once, however many schemas are built.
    assert build_schema().as_str() == schema.as_str()
    assert "Needs `orders:read`. Needs" not in schema.as_str()


async def test_the_matrix(app_settings: Settings) -> None:
    async with running(app_settings) as (container, client):
        callers: dict[str, tuple[dict[str, str], frozenset[Permission] | None]] = {
            "anonymous": ({}, None)
        }
        for role in Role:
            bearer = token(f"sub-{role.value}", f"{role.value}@example.com")
            headers = {"Authorization": f"Bearer {bearer}"}
            first = await client.post("/graphql", json={"query": ME}, headers=headers)
            assert first.status_code == 200  # the user now exists, as a viewer
            user = await container.access.reads.user_by_subject(f"sub-{role.value}")
            assert user is not None
            await container.bus.handle(SetUserRole(user_id=user.id, role=role.value))
            callers[f"role {role.value}"] = (headers, ROLE_PERMISSIONS[role])
        for permission in Permission:
            full = await key(container, permission.value, name=f"only {permission.value}")
            callers[f"key {permission.value}"] = ({"X-API-Key": full}, frozenset({permission}))

        checked = 0
        for field, (document, variables) in DOCUMENTS.items():
            needed = DOMAIN_GRANTS[field]
            for caller, (headers, held) in callers.items():
                response = await client.post(
                    "/graphql", json={"query": document, "variables": variables}, headers=headers
                )
                where = f"{field} as {caller}"
                if held is None:
                    assert response.status_code == 401, where
                    assert codes(response) == ["UNAUTHENTICATED"], where
                elif needed is None or grants(held, Permission(needed)):
                    assert response.status_code == 200, where
                    assert set(codes(response)) <= {"NOT_FOUND"}, (where, response.text)
                else:
                    assert response.status_code == 200, where
                    [error] = errors_of(response)
                    assert error["extensions"] == {"code": "FORBIDDEN", "permission": needed}, where
                    # Partial results: the refused root field is null, not the whole answer.
                    root = field.split(".")[1]
                    assert error["path"] == [root], where
                    assert response.json()["data"] == {root: None}, where
                checked += 1
        assert checked == len(DOCUMENTS) * (1 + len(Role) + len(Permission))
