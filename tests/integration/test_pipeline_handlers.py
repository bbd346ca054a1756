"""Contact sync and order confirmation handlers through `bootstrap`, on both dialects, with
fakes of the vendor ports (the database is real): what is stored, queued and sent."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

import pytest
from sqlalchemy import select, update

from app.contacts.commands import SyncContact, SyncOutcome
from app.contacts.ports import ContactSyncError
from app.jobs import RetryLater
from app.notifications.commands import SendNotification, SendOutcome
from app.notifications.ports import MessagingError
from infrastructure.cache.memory import MemoryCache
from infrastructure.db.tables import contact_syncs, events, message_templates, notifications
from infrastructure.db.uow import SqlUnitOfWork
from tests.pipeline import Pipeline, body
from visapi.bootstrap import bootstrap


async def synced_with_confirmation(p: Pipeline) -> tuple[UUID, UUID]:
    order_uuid = await p.order(body())
    assert await p.c.bus.handle(SyncContact(order_uuid)) is SyncOutcome.SYNCED
    [note] = await p.notes(order_uuid)
    return order_uuid, note.id


async def test_il_order_synced_then_one_confirmation_with_the_eight_params(p: Pipeline) -> None:
    order_uuid, note_id = await synced_with_confirmation(p)
    [sync] = await p.rows(select(contact_syncs))
    assert (sync.synced, sync.attempts, sync.language, sync.contact_id) == (
        True,
        1,
        "he",
        "c_972541112233",
    )
    assert sync.translated_fields == {
        "country": "בריטניה",
        "visa_type": "אישור נסיעה לשנתיים",
        "processing_days": "תוך 3 ימי עסקים",
    }
    [contact] = p.crm.upserts
    assert (contact.phone, contact.gender, contact.language) == ("972541112233", "male", "he")
    assert len(contact.fields) == 16  # every field of the map with a value (no entry date)

    [note] = await p.notes(order_uuid)
    assert (note.kind, note.item, note.status, note.template, note.language, note.phone) == (
        "order_confirmation",
        "",
        "queued",
        "order_confirmation_global",
        "he",
        "972541112233",
    )
    params = ["Avi Cohen", "בריטניה", "\U0001f1ec\U0001f1e7", "IL251101GB07"]
    assert note.params == [*params, "אישור נסיעה לשנתיים", "1", "165", "3"]
    # Its job was written with the sync's success, on the critical queue; and on the timeline.
    [job] = await p.jobs("send_notification")
    assert (job.queue, job.arguments) == ("critical", {"notification_id": str(note_id)})
    types = [
        r.type for r in await p.rows(select(events).where(events.c.aggregate_id == order_uuid))
    ]
    assert sorted(types) == ["notification.queued", "order.created"]

    assert await p.c.bus.handle(SendNotification(note_id)) is SendOutcome.SENT
    [message] = p.wa.sent
    assert (message.phone, message.template, message.language, list(message.params)) == (
        "972541112233",
        "order_confirmation_global",
        "he",
        note.params,
    )
    assert message.reference == str(note_id)
    [note] = await p.notes(order_uuid)
    assert (note.status, note.provider_message_id, note.attempts, note.claim_token) == (
        "sent",
        "wamid.1",
        1,
        None,
    )
    assert note.sent_at is not None

    # Redelivered jobs after success: nothing is sent or pushed again, nothing new is queued.
    assert await p.c.bus.handle(SendNotification(note_id)) is SendOutcome.ALREADY_SENT
    assert await p.c.bus.handle(SyncContact(order_uuid)) is SyncOutcome.ALREADY_SYNCED
    assert (p.wa.calls, len(p.crm.upserts), len(await p.notes(order_uuid))) == (1, 1, 1)
    assert len(await p.jobs("send_notification")) == 1


@pytest.mark.parametrize(
    ("payload", "language"),
    [
        (body("se-india-uppercase-branch-extra-keys.json"), "sv"),  # not il
        (body(phone={"code": "+972", "number": "12"}), "he"),  # invalid phone
        (body(whatsappAlertsEnabled=False), "he"),  # alerts off
    ],
    ids=["non-il", "invalid-phone", "alerts-off"],
)
async def test_synced_without_confirmation(p: Pipeline, payload: Any, language: str) -> None:
    order_uuid = await p.order(payload)
    assert await p.c.bus.handle(SyncContact(order_uuid)) is SyncOutcome.SYNCED
    [sync] = await p.rows(select(contact_syncs))
    assert (sync.synced, sync.language) == (True, language)
    assert bool(sync.translated_fields) is (language == "he")
    assert await p.notes(order_uuid) == []
    assert await p.jobs("send_notification") == []


async def test_repeat_customer_gets_every_field_of_the_new_order(p: Pipeline) -> None:
    first = await p.order(body())
    again = body()
    again["order"]["id"] = again["form"]["orderId"] = "IL251102GB08"
    again["order"]["amount"] = 330
    second = await p.order(again)
    for order_uuid in (first, second):
        assert await p.c.bus.handle(SyncContact(order_uuid)) is SyncOutcome.SYNCED
    one, two = p.crm.upserts
    assert [f.name for f in one.fields] == [f.name for f in two.fields]
    fields = {f.name: f.value for f in two.fields}
    assert (fields["OrderNumber"], fields["order_sum_ils"]) == ("IL251102GB08", "330")
    rows = {r.order_uuid: r for r in await p.rows(select(contact_syncs))}
    assert (rows[first].created, rows[second].created) == (True, False)
    assert len(await p.jobs("send_notification")) == 2  # one confirmation per order


async def test_a_failed_sync_is_recorded_and_queues_nothing(p: Pipeline) -> None:
    order_uuid = await p.order(body())
    p.crm.failures.append(ContactSyncError("rate_limit", "slow down"))
    with pytest.raises(ContactSyncError):
        await p.c.bus.handle(SyncContact(order_uuid))
    [sync] = await p.rows(select(contact_syncs))
    assert (sync.synced, sync.attempts, sync.error_count, sync.last_error_category) == (
        False,
        1,
        1,
        "rate_limit",
    )
    assert await p.notes(order_uuid) == []
    assert await p.c.bus.handle(SyncContact(order_uuid)) is SyncOutcome.SYNCED
    assert len(await p.notes(order_uuid)) == 1


async def test_a_template_out_of_step_queues_no_confirmation(p: Pipeline) -> None:
    await p.execute(
        update(message_templates)
        .where(message_templates.c.language == "he")
        .values(parameters=["customer_name", "destination"])
    )
    order_uuid = await p.order(body())
    assert await p.c.bus.handle(SyncContact(order_uuid)) is SyncOutcome.SYNCED
    [sync] = await p.rows(select(contact_syncs))
    assert sync.synced is True
    assert await p.notes(order_uuid) == []
    assert await p.jobs("send_notification") == []


async def test_two_concurrent_attempts_send_once(p: Pipeline) -> None:
    order_uuid, note_id = await synced_with_confirmation(p)
    p.wa.gate = asyncio.Event()
    first = asyncio.create_task(p.c.bus.handle(SendNotification(note_id)))
    await p.wa.entered.wait()  # the first attempt holds the claim and is at the vendor
    # The second attempt runs in another worker process (in this one it would wait behind the
    # first's group, app/groups.py): a container of its own on the same database.
    other = bootstrap(p.c.settings, cache=MemoryCache(), contacts=p.crm, messaging=p.wa)
    try:
        with pytest.raises(RetryLater) as retry:
            await other.bus.handle(SendNotification(note_id))
    finally:
        await other.aclose()
    # Retried when the claim would turn stale (the window is 120 s), not acknowledged.
    assert retry.value.delay_ms is not None
    assert retry.value.delay_ms > 60_000
    [note] = await p.notes(order_uuid)
    assert note.status == "pending"
    p.wa.gate.set()
    assert await first is SendOutcome.SENT
    # The second attempt's retry finds the row sent and acknowledges.
    assert await p.c.bus.handle(SendNotification(note_id)) is SendOutcome.ALREADY_SENT
    assert (len(p.wa.sent), p.wa.calls) == (1, 1)
    [note] = await p.notes(order_uuid)
    assert (note.status, note.attempts) == ("sent", 1)


async def test_a_stale_claim_is_taken_over_and_the_dead_attempt_cannot_record(p: Pipeline) -> None:
    order_uuid, note_id = await synced_with_confirmation(p)
    long_ago = datetime.now(UTC) - timedelta(minutes=10)
    await p.execute(
        update(notifications)
        .where(notifications.c.id == note_id)
        .values(status="pending", claimed_at=long_ago, claim_token="dead-worker", attempts=1)
    )
    assert await p.c.bus.handle(SendNotification(note_id)) is SendOutcome.SENT
    [note] = await p.notes(order_uuid)
    assert (note.status, note.attempts, len(p.wa.sent)) == ("sent", 2, 1)
    # The presumed-dead attempt wakes up: its token no longer holds the row.
    async with SqlUnitOfWork(p.c.engine, jobs_for=lambda e: [], registry={}) as unit:
        late = await unit.notifications.record_sent(note_id, "dead-worker", "wamid.x", long_ago)
        await unit.commit()
    assert late is None  # not held: no order to announce
    [note] = await p.notes(order_uuid)
    assert note.provider_message_id == "wamid.1"


async def test_a_send_failure_releases_the_claim_and_a_retry_sends_once(p: Pipeline) -> None:
    order_uuid, note_id = await synced_with_confirmation(p)
    p.wa.failures.append(MessagingError("network", "connection reset"))
    with pytest.raises(MessagingError):
        await p.c.bus.handle(SendNotification(note_id))
    [note] = await p.notes(order_uuid)
    assert (note.status, note.claim_token, note.attempts) == ("queued", None, 1)
    assert note.failure_reason == "network: connection reset"
    assert await p.c.bus.handle(SendNotification(note_id)) is SendOutcome.SENT
    [note] = await p.notes(order_uuid)
    assert (note.status, note.attempts, note.failure_reason, len(p.wa.sent)) == (
        "sent",
        2,
        None,
        1,
    )


async def test_a_permanent_error_marks_the_row_failed(p: Pipeline) -> None:
    order_uuid, note_id = await synced_with_confirmation(p)
    p.wa.failures.append(MessagingError("validation", "template rejected"))
    with pytest.raises(MessagingError):
        await p.c.bus.handle(SendNotification(note_id))
    [note] = await p.notes(order_uuid)
    assert (note.status, note.failure_reason, note.claim_token) == (
        "failed",
        "validation: template rejected",
        None,
    )
    assert note.failed_at is not None
    assert await p.c.bus.handle(SendNotification(note_id)) is SendOutcome.FAILED_BEFORE
    assert (p.wa.calls, p.wa.sent) == (1, [])
