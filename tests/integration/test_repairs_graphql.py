"""The admin repair mutations through the GraphQL schema on a real database, both dialects:
results, refusals a client must handle, what is queued, and who may call them."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from sqlalchemy import select

from app.contacts.commands import SyncContact
from app.notifications.commands import SendNotification
from domain.auth.permissions import Role
from graph.context import Context
from graph.schema import schema
from infrastructure.db.tables import notifications, outbox
from tests.auth import user
from tests.pipeline import Pipeline, body

RESYNC = """mutation($id: ID!) { resyncContact(orderId: $id) { __typename
  ... on ContactResyncQueued { order { orderId } }
  ... on OrderNotFound { message } ... on RepairRefused { message field } } }"""
RESEND = """mutation($id: ID!, $force: Boolean, $phone: String) {
  resendConfirmation(orderId: $id, force: $force, phone: $phone) { __typename
  ... on ConfirmationQueued { created notification { item status phone kind attempts } }
  ... on OrderNotFound { message } ... on RepairRefused { message field } } }"""
RETRIGGER = """mutation($id: ID!) { retriggerOrder(orderId: $id) { __typename
  ... on OrderRetriggered { jobs order { orderId } }
  ... on OrderNotFound { message } ... on RepairRefused { message field } } }"""


async def run(p: Pipeline, query: str, role: Role = Role.OPERATOR, **variables: Any) -> Any:
    ctx = Context(p.c.services, "t", principal=user(role))
    return await schema.execute(query, variable_values=variables, context_value=ctx)


async def data(p: Pipeline, query: str, **variables: Any) -> dict[str, Any]:
    result = await run(p, query, **variables)
    assert result.errors is None, result.errors
    (value,) = result.data.values()
    return dict(value)


async def test_resync_queues_a_forced_sync_through_the_outbox(p: Pipeline) -> None:
    order_uuid = await p.order(body())
    await p.c.bus.handle(SyncContact(order_uuid))
    answer = await data(p, RESYNC, id=str(order_uuid))
    assert answer == {"__typename": "ContactResyncQueued", "order": {"orderId": "IL251101GB07"}}
    jobs = [r.arguments for r in await p.jobs("sync_contact")]
    assert {"order_id": str(order_uuid), "resync": True} in jobs
    # The forced job pushes the synced contact again, every field included.
    await p.c.bus.handle(SyncContact(order_uuid, resync=True))
    assert len(p.crm.upserts) == 2
    assert len(p.crm.upserts[1].fields) == 16


@pytest.mark.parametrize("query", [RESYNC, RESEND, RETRIGGER])
async def test_unknown_and_malformed_order_ids(p: Pipeline, query: str) -> None:
    missing = await data(p, query, id=str(uuid.uuid4()))
    assert missing["__typename"] == "OrderNotFound"
    bad = await data(p, query, id="nope")
    assert (bad["__typename"], bad["field"]) == ("RepairRefused", "orderId")


async def test_resend_refusals_force_and_phone_override(p: Pipeline) -> None:
    order_uuid = await p.order(body())
    refused = await data(p, RESEND, id=str(order_uuid))
    assert refused["__typename"] == "RepairRefused"
    assert "not synced" in refused["message"]
    await p.c.bus.handle(SyncContact(order_uuid))
    [note] = await p.notes(order_uuid)
    # Unsent: no second message, its job is queued again.
    again = await data(p, RESEND, id=str(order_uuid))
    assert (again["created"], again["notification"]["item"]) == (False, "")
    await p.c.bus.handle(SendNotification(note.id))

    sent = await data(p, RESEND, id=str(order_uuid))
    assert (sent["__typename"], sent["field"]) == ("RepairRefused", "force")
    assert "already sent" in sent["message"]
    bad_phone = await data(p, RESEND, id=str(order_uuid), force=True, phone="12")
    assert (bad_phone["__typename"], bad_phone["field"]) == ("RepairRefused", "phone")

    forced = await data(p, RESEND, id=str(order_uuid), force=True, phone="+972 050-123-4567")
    assert forced == {
        "__typename": "ConfirmationQueued",
        "created": True,
        "notification": {
            "item": "resend-1",
            "status": "QUEUED",
            "phone": "972501234567",
            "kind": "order_confirmation",
            "attempts": 0,
        },
    }
    rows = await p.notes(order_uuid)
    assert [(r.item, r.status) for r in rows] == [("", "sent"), ("resend-1", "queued")]
    assert rows[1].params == rows[0].params
    await p.c.bus.handle(SendNotification(rows[1].id))
    assert [m.phone for m in p.wa.sent] == ["972541112233", "972501234567"]


async def test_retrigger_queues_the_orders_jobs_again(p: Pipeline) -> None:
    order_uuid = await p.order(body())
    answer = await data(p, RETRIGGER, id=str(order_uuid))
    assert answer == {
        "__typename": "OrderRetriggered",
        "jobs": ["sync_contact"],
        "order": {"orderId": "IL251101GB07"},
    }
    assert len(await p.jobs("sync_contact")) == 2
    se = await p.order(body("se-india-uppercase-branch-extra-keys.json"))
    assert (await data(p, RETRIGGER, id=str(se)))["jobs"] == []


@pytest.mark.parametrize("query", [RESYNC, RESEND, RETRIGGER])
async def test_a_viewer_may_not_repair(p: Pipeline, query: str) -> None:
    order_uuid = await p.order(body())
    result = await run(p, query, Role.VIEWER, id=str(order_uuid))
    assert result.data is not None
    assert list(result.data.values()) == [None]  # the refused root field only
    [error] = result.errors
    assert error.extensions == {"code": "FORBIDDEN", "permission": "orders:write"}
    async with p.c.engine.connect() as conn:
        queued = (await conn.execute(select(outbox.c.actor))).scalars().all()
        assert (await conn.execute(select(notifications))).all() == []
    assert queued == ["sync_contact"]  # only the order's own job
