"""The matrix of finding 6 (issue 11): no caller, whatever it holds, replaces what a run's
context gets from the system (the definition's `variables`, `order`, `steps`, `run`,
`workflow`) through `runWorkflow`; callers without `workflows:run` are refused before that.

Every role (JWT users) and a key of each single permission runs a workflow with each reserved
key in its context; the allowed ones get INVALID_INPUT naming the key, and no run is stored.
"""

from __future__ import annotations

from app.auth.commands import SetUserRole
from domain.auth.permissions import ROLE_PERMISSIONS, Permission, Role, grants
from domain.workflows.runs import RESERVED_KEYS
from tests.auth import errors_of, key, running, token
from tests.e2e.personal_support import FLOW
from visapi.settings import Settings

RUN = """mutation($id: ID!, $context: JSON) { runWorkflow(id: $id, context: $context) { id } }"""
CREATE = "mutation($d: JSON!) { createWorkflow(definition: $d) { ... on Workflow { id } } }"
RUNS = "{ workflowRuns(first: 1) { totalCount } }"


async def test_no_caller_replaces_a_reserved_context_key(app_settings: Settings) -> None:
    async with running(app_settings) as (container, client):
        admin = {"X-API-Key": await key(container, "admin", name="context matrix admin")}
        made = await client.post(
            "/graphql", json={"query": CREATE, "variables": {"d": FLOW}}, headers=admin
        )
        flow = made.json()["data"]["createWorkflow"]["id"]
        callers: dict[str, tuple[dict[str, str], frozenset[Permission]]] = {}
        for role in Role:
            headers = {"Authorization": f"Bearer {token(f'sub-ctx-{role.value}')}"}
            await client.post("/graphql", json={"query": "{ me { id } }"}, headers=headers)
            user = await container.access.reads.user_by_subject(f"sub-ctx-{role.value}")
            assert user is not None
            await container.bus.handle(SetUserRole(user_id=user.id, role=role.value))
            callers[f"role {role.value}"] = (headers, ROLE_PERMISSIONS[role])
        for permission in Permission:
            full = await key(container, permission.value, name="context matrix")
            callers[f"key {permission.value}"] = ({"X-API-Key": full}, frozenset({permission}))

        allowed = 0
        for caller, (headers, held) in callers.items():
            for reserved in sorted(RESERVED_KEYS):
                context = {reserved: {"channel": "#attacker", "to": "attacker@example.com"}}
                response = await client.post(
                    "/graphql",
                    json={"query": RUN, "variables": {"id": flow, "context": context}},
                    headers=headers,
                )
                where = f"{reserved} as {caller}"
                assert response.status_code == 200, where
                # runWorkflow is non-null until issue 13: a refusal nulls `data` itself.
                assert (response.json()["data"] or {}).get("runWorkflow") is None, where
                [error] = errors_of(response)
                if not grants(held, Permission.WORKFLOWS_RUN):
                    assert error["extensions"] == {
                        "code": "FORBIDDEN",
                        "permission": "workflows:run",
                    }, where
                    continue
                allowed += 1
                assert error["extensions"]["code"] == "INVALID_INPUT", where
                assert reserved in error["message"], where
        # operator, admin, and the keys of workflows:run and admin
        assert allowed == 4 * len(RESERVED_KEYS)
        runs = await client.post("/graphql", json={"query": RUNS}, headers=admin)
        assert runs.json() == {"data": {"workflowRuns": {"totalCount": 0}}}
