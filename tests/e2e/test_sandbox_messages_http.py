"""`sandboxMessages` over HTTP in both modes: what another process's sandbox recorded, newest
first, by phone, in pages; `jobs:read` required; bad arguments answered INVALID_INPUT."""

from __future__ import annotations

import subprocess
from typing import Any

import httpx
import pytest

from app.contacts.ports import Contact
from app.notifications.ports import TemplateMessage
from infrastructure.db.engine import create_engine
from infrastructure.vendors.sandbox import SandboxContactSync, SandboxMessaging
from tests.auth import codes, key, running
from tests.e2e.gql_support import gql
from tests.processes import CLI, ROOT
from tests.services import free_port, listening
from tests.waiting import until
from visapi.settings import Settings

PHONE = "972501234567"
QUERY = """query($first: Int, $after: String, $phone: String) {
  sandboxMessages(first: $first, after: $after, phone: $phone) {
    totalCount pageInfo { hasNextPage endCursor }
    edges { cursor node { id vendor operation phone payload createdAt } } } }"""


async def record_elsewhere(settings: Settings) -> str:
    """What a worker process would record: its own engine, its own sandboxes."""
    engine = create_engine(settings.database_url, pool_size=1)
    try:
        await SandboxContactSync(engine).upsert(
            Contact(phone=PHONE, name="Dana", email=None, language="he")
        )
        await SandboxContactSync(engine).upsert(
            Contact(phone="15550001111", name="Sam", email=None, language="en")
        )
        sent = await SandboxMessaging(engine).send_template(
            TemplateMessage(PHONE, "order_confirmation_global", "he", ("Dana", "2"), "ref-1")
        )
        assert sent is not None
        return sent
    finally:
        await engine.dispose()


async def test_sandbox_messages_list_what_workers_recorded(app_settings: Settings) -> None:
    async with running(app_settings) as (container, client):
        provider_id = await record_elsewhere(app_settings)
        # Phones and payloads are personal data: orders:read (test_personal_data_http).
        reader = await key(container, "jobs:read", "orders:read")

        everything = (await gql(client, QUERY, reader)).json()["data"]["sandboxMessages"]
        nodes = [e["node"] for e in everything["edges"]]
        assert [(n["operation"], n["phone"]) for n in nodes] == [
            ("message.send", PHONE),
            ("contact.create", "15550001111"),
            ("contact.create", PHONE),
        ]
        assert everything["totalCount"] == 3
        assert nodes[0]["payload"]["params"] == ["Dana", "2"]
        assert nodes[0]["payload"]["provider_message_id"] == provider_id
        assert {n["vendor"] for n in nodes} == {"cbb"}

        mine = (await gql(client, QUERY, reader, phone="+972 50-123-4567")).json()["data"]
        assert [e["node"]["phone"] for e in mine["sandboxMessages"]["edges"]] == [PHONE, PHONE]
        assert mine["sandboxMessages"]["totalCount"] == 2

        page = (await gql(client, QUERY, reader, first=2)).json()["data"]["sandboxMessages"]
        assert page["pageInfo"]["hasNextPage"] is True
        after = page["pageInfo"]["endCursor"]
        rest = (await gql(client, QUERY, reader, first=2, after=after)).json()["data"][
            "sandboxMessages"
        ]
        assert [e["node"]["id"] for e in page["edges"] + rest["edges"]] == [n["id"] for n in nodes]
        assert rest["pageInfo"]["hasNextPage"] is False


async def test_sandbox_messages_need_jobs_read(app_settings: Settings) -> None:
    async with running(app_settings) as (container, client):
        assert (await gql(client, QUERY, None)).status_code == 401
        orders_only = await key(container, "orders:read")
        refused = await gql(client, QUERY, orders_only)
        assert codes(refused) == ["FORBIDDEN"]
        assert refused.json()["data"] == {"sandboxMessages": None}
        admin = await key(container, "admin")
        assert codes(await gql(client, QUERY, admin)) == []


@pytest.mark.parametrize(
    ("variables", "field"),
    [({"first": 101}, "first"), ({"after": "not-a-cursor"}, "after"), ({"phone": "abc"}, "phone")],
)
async def test_bad_arguments_are_invalid_input(
    app_settings: Settings, variables: dict[str, Any], field: str
) -> None:
    async with running(app_settings) as (container, client):
        caller = await key(container, "jobs:read", "orders:read")
        answer = await gql(client, QUERY, caller, **variables)
        [error] = answer.json()["errors"]
        assert (error["extensions"]["code"], error["extensions"].get("field")) == (
            "INVALID_INPUT",
            field,
        )


async def test_a_phone_is_refused_before_it_is_validated(app_settings: Settings) -> None:
    # As on every field, the permissions come first: a caller who may not filter by phone is
    # told so, whatever phone it sent.
    async with running(app_settings) as (container, client):
        answer = await gql(client, QUERY, await key(container, "jobs:read"), phone="abc")
        [error] = answer.json()["errors"]
        assert error["extensions"] == {"code": "FORBIDDEN", "permission": "orders:read"}
        assert answer.json()["data"] == {"sandboxMessages": None}


def wait_for_port(process: subprocess.Popen[bytes], port: int) -> None:
    until(lambda: listening(port, process), why="`visapi fake-vendors` did not start")


def test_the_fake_vendors_command_serves_the_fake_crm() -> None:
    port, token = free_port(), "cli-token-42"
    command = [*CLI, "fake-vendors", "--port", str(port), "--token", token]
    process = subprocess.Popen(command, cwd=ROOT, stderr=subprocess.DEVNULL)
    try:
        base = f"http://127.0.0.1:{port}"
        wait_for_port(process, port)
        assert httpx.get(f"{base}/contacts/{PHONE}", headers={"X-ACCESS-TOKEN": token}).json() == {}
        assert httpx.get(f"{base}/contacts/{PHONE}").status_code == 401
        assert httpx.get(f"{base}/_fake/requests").json()[0]["operation"] == "contact.get"
    finally:
        process.terminate()
        process.wait(timeout=15)
