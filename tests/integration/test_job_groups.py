"""Grouped execution on both dialects: syncs and sends a worker runs at the same time share
their transactions (app/groups.py), and each still ends, logs and queues as it would alone."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any
from uuid import UUID

from sqlalchemy import select

from app import context
from app.contacts.commands import SyncContact, SyncOutcome
from app.contacts.ports import ContactSyncError
from app.notifications.commands import SendNotification, SendOutcome
from app.notifications.ports import MessagingError
from infrastructure.db.tables import contact_syncs, logs, notifications
from tests.pipeline import Pipeline, body


def order_body(n: int) -> dict[str, Any]:
    data = body(phone={"code": "+972", "number": f"05411122{n:02d}"})
    data["order"]["id"] = data["form"]["orderId"] = f"ILGROUP{n:04d}"
    return data


async def as_request(p: Pipeline, command: object, correlation: str) -> object:
    """The bus call of one job, under its message's correlation and job ids."""
    context.correlation_id.set(correlation)
    context.job_id.set(f"job-{correlation}")
    return await p.c.bus.handle(command)


async def behind_a_running_group(
    p: Pipeline, gate_of: Any, lead: object, rest: list[tuple[object, str]]
) -> list[object]:
    """`lead` starts a group and is held at the vendor; `rest` arrive meanwhile and form the
    next group; then the vendor answers. Every outcome, errors included."""
    gate_of.gate = asyncio.Event()
    first = asyncio.create_task(as_request(p, lead, "corr-lead"))
    await gate_of.entered.wait()
    others = [asyncio.create_task(as_request(p, c, corr)) for c, corr in rest]
    await asyncio.sleep(0.05)
    gate_of.gate.set()
    return list(await asyncio.gather(first, *others, return_exceptions=True))


async def log_lines(p: Pipeline) -> dict[str, str | None]:
    rows = await p.rows(select(logs.c.message, logs.c.correlation_id))
    return {r.message: r.correlation_id for r in rows}


async def test_syncs_in_one_group_each_end_log_and_queue_as_alone(p: Pipeline) -> None:
    orders = [await p.order(order_body(n)) for n in range(5)]
    p.crm.failing["972541112203"] = ContactSyncError("vendor_error", "HTTP 503")
    unknown = uuid.uuid4()
    rest: list[tuple[object, str]] = [
        (SyncContact(orders[1]), "corr-1"),
        (SyncContact(orders[2]), "corr-2"),
        (SyncContact(orders[3]), "corr-3"),
        (SyncContact(orders[4]), "corr-4"),
        (SyncContact(unknown), "corr-unknown"),
        (SyncContact(orders[1]), "corr-1-again"),  # a redelivery in the same group
    ]
    outcomes = await behind_a_running_group(p, p.crm, SyncContact(orders[0]), rest)
    lead, one, two, three, four, none, again = outcomes
    assert (lead, one, two, four) == (SyncOutcome.SYNCED,) * 4
    assert isinstance(three, ContactSyncError)  # only its own message is retried
    assert (none, again) == (SyncOutcome.UNKNOWN_ORDER, SyncOutcome.ALREADY_SYNCED)
    assert len(p.crm.upserts) == 5  # one call per order, the redelivery's included in it

    rows = {r.order_uuid: r for r in await p.rows(select(contact_syncs))}
    assert [(rows[o].synced, rows[o].attempts) for o in orders] == [
        (True, 1),
        (True, 1),
        (True, 1),
        (False, 1),
        (True, 1),
    ]
    assert (rows[orders[3]].error_count, rows[orders[3]].last_error_category) == (
        1,
        "vendor_error",
    )
    # Each member's lines and next jobs carry its own request's id, not the group's first.
    lines = await log_lines(p)
    for n in (1, 2, 4):
        assert lines[f"contact of order ILGROUP{n:04d} synced to the CRM (created)"] == f"corr-{n}"
        assert lines[f"confirmation of order ILGROUP{n:04d} queued"] == f"corr-{n}"
    failed = [m for m in lines if m.startswith(f"contact sync of order {orders[3]} failed")]
    assert [lines[m] for m in failed] == ["corr-3"]
    sends = await p.jobs("send_notification")
    assert sorted(j.correlation_id for j in sends) == [
        "corr-1",
        "corr-2",
        "corr-4",
        "corr-lead",
    ]


async def queued_notes(p: Pipeline, n: int) -> list[UUID]:
    ids = []
    for k in range(n):
        order_uuid = await p.order(order_body(k))
        assert await p.c.bus.handle(SyncContact(order_uuid)) is SyncOutcome.SYNCED
        [note] = await p.notes(order_uuid)
        ids.append(note.id)
    return ids


async def test_sends_in_one_group_each_end_and_log_as_alone(p: Pipeline) -> None:
    notes = await queued_notes(p, 4)
    rest: list[tuple[object, str]] = [
        (SendNotification(notes[1]), "corr-1"),
        (SendNotification(notes[2]), "corr-2"),
        (SendNotification(notes[3]), "corr-3"),
        (SendNotification(notes[1]), "corr-1-again"),
        (SendNotification(uuid.uuid4()), "corr-unknown"),
    ]

    # In the second group, the send to notes[1]'s phone fails for good.
    p.wa.failing["972541112201"] = MessagingError("validation", "bad phone")
    outcomes = await behind_a_running_group(p, p.wa, SendNotification(notes[0]), rest)
    lead, one, two, three, again, unknown = outcomes
    assert lead is SendOutcome.SENT
    assert isinstance(one, MessagingError)
    assert (two, three) == (SendOutcome.SENT, SendOutcome.SENT)
    assert isinstance(again, MessagingError)  # the same row's other message ends as it did
    assert unknown is SendOutcome.UNKNOWN
    statuses = [(await p.rows(select_note(n)))[0].status for n in notes]
    assert statuses == ["sent", "failed", "sent", "sent"]
    lines = await log_lines(p)
    sent = {m: c for m, c in lines.items() if m.startswith("confirmation ") and "sent" in m}
    assert sorted(c for c in sent.values() if c is not None) == ["corr-2", "corr-3", "corr-lead"]
    [failed] = [c for m, c in lines.items() if "failed for good" in m]
    assert failed == "corr-1"


def select_note(note_id: UUID) -> Any:
    return select(notifications).where(notifications.c.id == note_id)
