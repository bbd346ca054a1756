"""The personal-data matrix: personal fields read through root fields that do not need
`orders:read` (createOrder, sandboxMessages, failedJobs, resendConfirmation, runWorkflow), as
every kind of caller; without `orders:read` each such field is null with a FORBIDDEN error
naming it, the rest of the answer intact, and no personal value anywhere in the response.
"""

from __future__ import annotations

import json
from pathlib import Path

from app.auth.commands import SetUserRole
from domain.auth.permissions import ROLE_PERMISSIONS, Permission, Role, grants
from tests.auth import errors_of, key, running, token
from tests.e2e.personal_support import (
    CREATE_ORDER,
    FAILED,
    FLOW,
    RESEND,
    RUN,
    SANDBOX,
    leaks,
    seed_personal,
)
from visapi.settings import Settings

ME = "{ me { id } }"
FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "vizi-orders"

# Root field -> (document, its permission, its variables' name below): each selects personal
# fields besides others.
PERSONAL_DOCUMENTS = {
    "Mutation.createOrder": (CREATE_ORDER, Permission.ORDERS_WRITE, "body"),
    "Query.sandboxMessages": (SANDBOX, Permission.JOBS_READ, None),
    "Query.failedJobs": (FAILED, Permission.JOBS_READ, None),
    "Mutation.resendConfirmation": (RESEND, Permission.ORDERS_WRITE, "order"),
    "Mutation.runWorkflow": (RUN, Permission.WORKFLOWS_RUN, "flow"),
}


async def test_the_personal_data_matrix(app_settings: Settings) -> None:
    async with running(app_settings) as (container, client):
        order_id = await seed_personal(container, client)
        admin = {"X-API-Key": await key(container, "admin", name="matrix admin")}
        create = "mutation($d: JSON!) { createWorkflow(definition: $d) { ... on Workflow { id } } }"
        made = await client.post(
            "/graphql", json={"query": create, "variables": {"d": FLOW}}, headers=admin
        )
        inputs = {
            None: {},
            "order": {"id": order_id},
            "flow": {"id": made.json()["data"]["createWorkflow"]["id"]},
            "body": {"p": json.loads((FIXTURES / "il-uk-eta.json").read_text())},
        }
        callers: dict[str, tuple[dict[str, str], frozenset[Permission]]] = {}
        for role in Role:
            bearer = token(f"sub-pii-{role.value}", f"{role.value}@example.com")
            headers = {"Authorization": f"Bearer {bearer}"}
            await client.post("/graphql", json={"query": ME}, headers=headers)
            user = await container.access.reads.user_by_subject(f"sub-pii-{role.value}")
            assert user is not None
            await container.bus.handle(SetUserRole(user_id=user.id, role=role.value))
            callers[f"role {role.value}"] = (headers, ROLE_PERMISSIONS[role])
        for held in [
            *({p} for p in Permission),
            *({p, Permission.ORDERS_READ} for p in Permission),
        ]:
            full = await key(container, *sorted(held), name="pii matrix")
            callers[f"key {sorted(held)}"] = ({"X-API-Key": full}, frozenset(held))

        checked = 0
        for field, (document, needed, inputs_of) in PERSONAL_DOCUMENTS.items():
            variables = inputs[inputs_of]
            for caller, (headers, held) in callers.items():
                response = await client.post(
                    "/graphql", json={"query": document, "variables": variables}, headers=headers
                )
                where = f"{field} as {caller}"
                assert response.status_code == 200, where
                extensions = [e["extensions"] for e in errors_of(response)]
                if not grants(held, needed):
                    assert extensions == [{"code": "FORBIDDEN", "permission": needed.value}], where
                elif grants(held, Permission.ORDERS_READ):
                    assert extensions == [], (where, response.text)
                else:
                    assert extensions, where
                    assert all(
                        e == {"code": "FORBIDDEN", "permission": "orders:read"} for e in extensions
                    ), where
                    assert response.json()["data"][field.split(".")[1]] is not None, where
                if not grants(held, Permission.ORDERS_READ):
                    assert not leaks(response), where
                checked += 1
        # roles, single permissions, and each other permission with orders:read
        assert len(callers) == len(Role) + 2 * len(Permission) - 1
        assert checked == len(PERSONAL_DOCUMENTS) * len(callers)
