"""A customer's data over HTTP with the embedded worker: exported as one document, then erased
as a bulk operation: their personal data gone from every table (ids, amounts and dates kept),
their unsent messages stopped, nobody else's data touched; admin only; bad input named."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import select, text

from app.orders.commands import CreateOrder
from infrastructure.db.tables import notifications, orders
from tests.auth import key, running, with_auth
from tests.e2e.gql_support import gql, gql_data
from tests.live import order_body
from tests.waiting import eventually
from visapi.settings import Settings

EXPORT = "query($e: String, $p: String) { exportCustomerData(email: $e, phone: $p) }"
ERASE = """mutation($e: String, $p: String) { eraseCustomerData(email: $e, phone: $p) {
  id kind total filter } }"""
READ = "query($id: ID!) { bulkOperation(id: $id) { status done } }"
TABLES = ("orders", "webhook_payloads", "notifications", "sandbox_messages", "contact_syncs")


async def dump(container: Any) -> str:
    """Every row of the personal tables, as text."""
    async with container.engine.connect() as conn:
        rows = [
            str(r) for t in TABLES for r in (await conn.execute(text(f"SELECT * FROM {t}"))).all()
        ]
    return "\n".join(rows)


async def test_export_then_erase_a_customer(sqlite_url: str) -> None:
    async with running(with_auth(Settings(database_url=sqlite_url))) as (c, http):
        admin = await key(c, "admin")
        mine, theirs = f"ada-{uuid.uuid4().hex[:6]}@example.com", "bob@example.com"
        for email in (mine, mine, theirs):
            await c.bus.handle(CreateOrder(payload=order_body(email)))

        async def all_sent() -> bool:
            async with c.engine.connect() as conn:
                states = (await conn.execute(select(notifications.c.status))).scalars().all()
            return len(states) == 3 and set(states) == {"sent"}

        await eventually(all_sent, why="the confirmations were not all sent")
        exported = (await gql_data(http, EXPORT, admin, e=mine))["exportCustomerData"]
        assert exported["subject"] == {"email": mine}
        assert len(exported["orders"]) == 2
        assert {o["client_email"] for o in exported["orders"]} == {mine}
        assert len(exported["archivedBodies"]) == 2
        assert len(exported["notifications"]) == 2
        assert len(exported["contactSyncs"]) == 2
        assert exported["sandboxRecords"]  # what the CRM and WhatsApp sandboxes recorded
        assert exported["logs"]

        started = (await gql_data(http, ERASE, admin, e=mine))["eraseCustomerData"]
        assert (started["kind"], started["total"]) == ("ERASE_CUSTOMER", 2)
        assert mine not in str(started["filter"])  # the record outlives the erasure

        async def finished() -> bool:
            found = (await gql_data(http, READ, admin, id=started["id"]))["bulkOperation"]
            return bool(found["status"] == "FINISHED")

        await eventually(finished, why="the erasure did not finish")
        everything = await dump(c)
        after = (await gql_data(http, EXPORT, admin, e=mine))["exportCustomerData"]
        async with c.engine.connect() as conn:
            kept = (await conn.execute(select(orders.c.client_name, orders.c.amount))).all()
    assert mine not in everything
    assert theirs in everything  # nobody else's data
    assert after["orders"] == []  # nothing carries the email any more
    names = sorted(r.client_name for r in kept)
    assert names.count("[erased]") == 2
    assert all(r.amount for r in kept)  # amounts kept for the accounts


async def test_admin_only_and_bad_input_named(app_settings: Settings) -> None:
    async with running(app_settings) as (c, http):
        reader = await key(c, "orders:read", "orders:write")
        admin = await key(c, "admin")
        refused = (await gql(http, EXPORT, reader, e="a@example.com")).json()
        both = (await gql(http, ERASE, admin, e="a@example.com", p="+972541112233")).json()
        neither = (await gql(http, EXPORT, admin)).json()
        bad = (await gql(http, EXPORT, admin, p="no digits")).json()
    assert refused["errors"][0]["extensions"] == {"code": "FORBIDDEN", "permission": "admin"}
    assert both["errors"][0]["extensions"]["code"] == "INVALID_INPUT"
    assert "exactly one" in both["errors"][0]["message"]
    assert neither["errors"][0]["extensions"]["field"] == "email"
    assert bad["errors"][0]["extensions"]["field"] == "phone"
