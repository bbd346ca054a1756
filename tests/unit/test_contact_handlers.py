"""The contact sync handlers on the fake unit of work: one CRM attempt per delivery, its row,
and the confirmation it queues on success."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import pytest

from app.contacts.commands import ResyncContact, SyncContact, SyncOutcome
from app.contacts.handlers import ACTOR, resync_contact, sync_contact
from app.errors import NotFound
from app.vendors import VendorError
from domain.contacts.events import ContactResyncRequested
from domain.notifications import confirmation as c
from domain.notifications.events import NotificationQueued
from tests.fakes import FakeContactSync, FakeStore, FakeUnitOfWorkFactory
from tests.unit.handler_support import Clock, new_ids, stored


class World:
    def __init__(self) -> None:
        self.uow = FakeUnitOfWorkFactory()
        self.store: FakeStore = self.uow.store
        self.crm = FakeContactSync()
        self.clock = Clock()

    async def sync(self, order_uuid: uuid.UUID, *, resync: bool = False) -> SyncOutcome:
        return await sync_contact(
            SyncContact(order_uuid, resync=resync),
            uow=self.uow,
            contacts=self.crm,
            now=self.clock,
            new_id=new_ids(),
        )


@pytest.fixture
def world() -> World:
    return World()


async def test_an_unknown_order_is_acknowledged_without_calling_the_crm(world: World) -> None:
    assert await world.sync(uuid.uuid4()) is SyncOutcome.UNKNOWN_ORDER
    assert world.crm.upserts == []
    assert world.store.contact_syncs == {}


async def test_a_first_sync_pushes_the_contact_by_phone(world: World) -> None:
    order = stored(world.store)
    assert await world.sync(order.id) is SyncOutcome.SYNCED
    [contact] = world.crm.upserts
    assert contact.phone == order.client_phone
    assert contact.name == order.client_name
    assert contact.language == "he"
    assert contact.fields  # every custom field of the map


async def test_a_first_sync_records_the_crm_contact_on_the_row(world: World) -> None:
    order = stored(world.store)
    await world.sync(order.id)
    row = world.store.contact_syncs[order.id]
    assert (row.synced, row.contact_id, row.created) == (True, f"c_{order.client_phone}", True)
    assert (row.attempts, row.error_count, row.last_attempt_at) == (1, 0, world.clock.at)


async def test_a_hebrew_sync_stores_its_translated_fields(world: World) -> None:
    order = stored(world.store)
    await world.sync(order.id)
    row = world.store.contact_syncs[order.id]
    assert row.language == "he"
    assert row.translated_fields  # the Hebrew display texts of revision 0002


async def test_a_sync_queues_the_first_confirmation_and_its_job(world: World) -> None:
    order = stored(world.store)
    await world.sync(order.id)
    [row] = world.store.notifications.values()
    assert (row.order_uuid, row.kind, row.item, row.status) == (order.id, c.KIND, "", "queued")
    assert (row.phone, row.template, row.language) == (order.client_phone, c.TEMPLATE, "he")
    assert len(row.params) == 8
    assert [(j.actor, dict(j.arguments)) for j in world.store.outbox] == [
        ("send_notification", {"notification_id": str(row.id)})
    ]


async def test_the_confirmation_event_is_stored_under_the_jobs_actor(world: World) -> None:
    order = stored(world.store)
    await world.sync(order.id)
    assert [type(e) for e in world.store.events] == [NotificationQueued]
    assert [(t, a) for t, _, a, _ in world.store.event_rows] == [
        (world.store.events[0].type, ACTOR)
    ]


async def test_a_redelivered_job_finds_the_order_synced(world: World) -> None:
    order = stored(world.store)
    await world.sync(order.id)
    assert await world.sync(order.id) is SyncOutcome.ALREADY_SYNCED
    assert len(world.crm.upserts) == 1
    assert world.store.contact_syncs[order.id].attempts == 1
    assert len(world.store.notifications) == 1
    assert len(world.store.outbox) == 1


async def test_a_resync_pushes_a_synced_contact_again(world: World) -> None:
    order = stored(world.store)
    await world.sync(order.id)
    assert await world.sync(order.id, resync=True) is SyncOutcome.SYNCED
    assert len(world.crm.upserts) == 2
    row = world.store.contact_syncs[order.id]
    assert (row.attempts, row.created) == (2, False)  # the CRM knew the phone the second time


async def test_a_resync_queues_no_second_confirmation(world: World) -> None:
    order = stored(world.store)
    await world.sync(order.id)
    await world.sync(order.id, resync=True)
    assert len(world.store.notifications) == 1
    assert len(world.store.outbox) == 1


async def test_an_order_without_phone_is_recorded_and_never_sent(world: World) -> None:
    order = stored(world.store, client_phone=None)
    assert await world.sync(order.id) is SyncOutcome.NO_PHONE
    assert world.crm.upserts == []
    row = world.store.contact_syncs[order.id]
    assert (row.synced, row.error_count, row.last_error_category) == (False, 1, "validation")
    assert row.last_error == "order has no phone number"


async def test_a_vendor_failure_is_recorded_then_raised_for_a_retry(world: World) -> None:
    order = stored(world.store)
    world.crm.failures.append(VendorError("network", "connection reset"))
    with pytest.raises(VendorError, match="connection reset"):
        await world.sync(order.id)
    row = world.store.contact_syncs[order.id]
    assert (row.synced, row.attempts, row.error_count) == (False, 1, 1)
    assert (row.last_error_category, row.last_error) == ("network", "connection reset")


async def test_a_failed_attempt_queues_no_confirmation(world: World) -> None:
    order = stored(world.store)
    world.crm.failures.append(VendorError("auth", "bad token"))
    with pytest.raises(VendorError):
        await world.sync(order.id)
    assert world.store.notifications == {}
    assert world.store.outbox == []


async def test_the_retry_after_a_failure_syncs_and_counts_both_attempts(world: World) -> None:
    order = stored(world.store)
    world.crm.failures.append(VendorError("vendor_error", "502"))
    with pytest.raises(VendorError):
        await world.sync(order.id)
    assert await world.sync(order.id) is SyncOutcome.SYNCED
    row = world.store.contact_syncs[order.id]
    assert (row.synced, row.attempts, row.error_count) == (True, 2, 1)
    assert len(world.store.notifications) == 1


async def test_a_cancelled_attempt_counts_as_a_timeout(world: World) -> None:
    order = stored(world.store)
    world.crm.failures.append(asyncio.CancelledError())  # type: ignore[arg-type]
    with pytest.raises(asyncio.CancelledError):
        await world.sync(order.id)
    row = world.store.contact_syncs[order.id]
    assert (row.last_error_category, row.last_error) == (
        "timeout",
        "attempt exceeded its time limit",
    )


async def test_an_order_without_alerts_is_synced_without_confirmation(world: World) -> None:
    order = stored(world.store, whatsapp_alerts_enabled=False)
    assert await world.sync(order.id) is SyncOutcome.SYNCED
    assert world.store.contact_syncs[order.id].synced is True
    assert world.store.notifications == {}
    assert world.store.outbox == []


async def test_a_missing_template_keeps_the_sync_and_sends_nothing(world: World) -> None:
    order = stored(world.store)
    world.store.templates.clear()
    assert await world.sync(order.id) is SyncOutcome.SYNCED
    assert world.store.contact_syncs[order.id].synced is True
    assert world.store.notifications == {}


async def test_a_non_israeli_order_syncs_in_its_language_with_no_confirmation(
    world: World,
) -> None:
    order = stored(world.store, "se-india-uppercase-branch-extra-keys.json")
    assert await world.sync(order.id) is SyncOutcome.SYNCED
    row = world.store.contact_syncs[order.id]
    assert row.language != "he"
    assert row.translated_fields == {}
    assert world.store.notifications == {}


async def resync(world: World, order_uuid: uuid.UUID, **kw: Any) -> Any:
    return await resync_contact(ResyncContact(order_uuid, **kw), uow=world.uow, now=world.clock)


async def test_resync_of_an_unknown_order_is_not_found(world: World) -> None:
    with pytest.raises(NotFound) as raised:
        await resync(world, uuid.uuid4())
    assert raised.value.field == "orderId"
    assert world.store.commits == 0


async def test_resync_queues_a_forced_sync_job(world: World) -> None:
    order = stored(world.store)
    assert (await resync(world, order.id)).id == order.id
    assert [(j.actor, dict(j.arguments)) for j in world.store.outbox] == [
        ("sync_contact", {"order_id": str(order.id), "resync": True})
    ]


async def test_resync_is_in_the_audit_trail_with_who_asked(world: World) -> None:
    order = stored(world.store)
    await resync(world, order.id, actor="admin:ana", correlation_id="req-1")
    [event] = world.store.events
    assert isinstance(event, ContactResyncRequested)
    assert world.store.event_rows == [(event.type, order.id, "admin:ana", "req-1")]


async def test_resync_queues_a_sync_for_any_branch(world: World) -> None:
    order = stored(world.store, "se-india-uppercase-branch-extra-keys.json")
    await resync(world, order.id)
    assert [j.actor for j in world.store.outbox] == ["sync_contact"]
