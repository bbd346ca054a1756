"""Personal data over HTTP, both modes: a caller without `orders:read` gets each personal field
null with a FORBIDDEN error naming `orders:read`, and the rest of the answer intact (issue 11,
finding 5: sandboxMessages with jobs:read, resendConfirmation with orders:write, failedJobs)."""

from __future__ import annotations

from typing import Any

import httpx

from tests.auth import errors_of, key, running
from tests.e2e.personal_support import (
    EMAIL,
    FAILED,
    FLOW,
    PASSPORT,
    PHONE,
    RESEND,
    RUN,
    SANDBOX,
    leaks,
    seed_personal,
)
from visapi.settings import Settings

FORBIDDEN = {"code": "FORBIDDEN", "permission": "orders:read"}


async def post(
    client: httpx.AsyncClient, secret: str, query: str, **variables: Any
) -> httpx.Response:
    response = await client.post(
        "/graphql", json={"query": query, "variables": variables}, headers={"X-API-Key": secret}
    )
    assert response.status_code == 200, response.text
    return response


def refusals(response: httpx.Response) -> list[str]:
    """The refused fields' names; every error must be FORBIDDEN naming orders:read."""
    errors = errors_of(response)
    assert all(e["extensions"] == FORBIDDEN for e in errors), errors
    assert all(e["message"] == "Missing permission orders:read." for e in errors)
    return sorted(e["path"][-1] for e in errors)


async def test_sandbox_messages_with_jobs_read_only(app_settings: Settings) -> None:
    async with running(app_settings) as (container, client):
        await seed_personal(container, client)
        refused = await post(client, await key(container, "jobs:read"), SANDBOX)
        page = refused.json()["data"]["sandboxMessages"]
        nodes = [e["node"] for e in page["edges"]]
        assert page["totalCount"] == len(nodes) >= 1
        assert all(n["id"] and n["vendor"] == "cbb" and n["operation"] for n in nodes)
        assert {(n["phone"], n["payload"]) for n in nodes} == {(None, None)}
        assert refusals(refused) == sorted(["payload", "phone"] * len(nodes))
        assert not leaks(refused)

        # Whether a phone has records says whether that person is a customer.
        by_phone = SANDBOX.replace("first: 50", f'first: 50, phone: "{PHONE}"')
        probe = await post(client, await key(container, "jobs:read"), by_phone)
        assert refusals(probe) == ["sandboxMessages"]
        assert probe.json()["data"] == {"sandboxMessages": None}

        full = await post(client, await key(container, "jobs:read", "orders:read"), SANDBOX)
        assert errors_of(full) == []
        assert PHONE in full.text
        assert EMAIL in full.text
        assert PASSPORT in full.text


async def test_resend_confirmation_with_orders_write_only(app_settings: Settings) -> None:
    async with running(app_settings) as (container, client):
        order_id = await seed_personal(container, client)
        writer = await key(container, "orders:write")
        refused = await post(client, writer, RESEND, id=order_id)
        answer = refused.json()["data"]["resendConfirmation"]
        assert answer["__typename"] == "ConfirmationQueued"
        assert answer["notification"]["id"]
        assert answer["notification"]["item"].startswith("resend")
        assert answer["notification"]["phone"] is None
        assert refusals(refused) == ["phone"]

        reader = await key(container, "orders:write", "orders:read")
        full = (await post(client, reader, RESEND, id=order_id)).json()
        assert "errors" not in full
        assert full["data"]["resendConfirmation"]["notification"]["phone"]


async def test_failed_job_arguments_with_jobs_read_only(app_settings: Settings) -> None:
    async with running(app_settings) as (container, client):
        await seed_personal(container, client)
        refused = await post(client, await key(container, "jobs:read"), FAILED)
        [edge] = refused.json()["data"]["failedJobs"]["edges"]
        assert edge["node"]["actor"] == "sync_contact"
        assert edge["node"]["attempts"] == 6
        assert (edge["node"]["arguments"], edge["node"]["error"]) == (None, None)
        assert refusals(refused) == ["arguments", "error"]
        assert not leaks(refused)

        full = await post(client, await key(container, "jobs:read", "orders:read"), FAILED)
        [edge] = full.json()["data"]["failedJobs"]["edges"]
        assert edge["node"]["arguments"] == {"phone": PHONE, "email": EMAIL}
        assert EMAIL in edge["node"]["error"]


async def test_workflow_run_context_with_workflows_run_only(app_settings: Settings) -> None:
    async with running(app_settings) as (container, client):
        admin = await key(container, "admin")
        create = "mutation($d: JSON!) { createWorkflow(definition: $d) { ... on Workflow { id } } }"
        made = await post(client, admin, create, d=FLOW)
        flow_id = made.json()["data"]["createWorkflow"]["id"]
        refused = await post(client, await key(container, "workflows:run"), RUN, id=flow_id)
        run = refused.json()["data"]["runWorkflow"]
        assert run["id"]
        assert run["status"]
        assert run["context"] is None
        assert refusals(refused) == ["context"]
        assert not leaks(refused)
