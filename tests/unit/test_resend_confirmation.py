"""The admin resend of an order confirmation on the fake unit of work: refusals, force, a new
row per resend, and an unsent row queued again rather than duplicated."""

from __future__ import annotations

import uuid
from dataclasses import replace
from typing import Any

import pytest

from app.errors import InvalidInput, NotFound
from app.notifications.commands import ResendConfirmation
from app.notifications.resend import resend_confirmation
from domain.orders.model import Order
from tests.fakes import ContactSyncRow, FakeUnitOfWorkFactory
from tests.unit.handler_support import T0, Clock, new_ids, stored

IDS = new_ids()


@pytest.fixture
def uow() -> FakeUnitOfWorkFactory:
    return FakeUnitOfWorkFactory()


def synced(uow: FakeUnitOfWorkFactory, **changes: Any) -> Order:
    order = stored(uow.store, **changes)
    uow.store.contact_syncs[order.id] = ContactSyncRow(order.id, "he", {}, T0, T0, synced=True)
    return order


async def resend(uow: FakeUnitOfWorkFactory, order_uuid: uuid.UUID, **kw: Any) -> Any:
    cmd = ResendConfirmation(order_uuid, **kw)
    return await resend_confirmation(cmd, uow=uow, now=Clock(), new_id=IDS)


def mark(uow: FakeUnitOfWorkFactory, status: str) -> None:
    for id, row in uow.store.notifications.items():
        uow.store.notifications[id] = replace(row, status=status)


async def test_an_unknown_order_is_not_found(uow: FakeUnitOfWorkFactory) -> None:
    with pytest.raises(NotFound) as raised:
        await resend(uow, uuid.uuid4())
    assert raised.value.field == "orderId"


async def test_an_unsynced_order_is_refused_naming_why(uow: FakeUnitOfWorkFactory) -> None:
    order = stored(uow.store)
    with pytest.raises(InvalidInput, match="not synced") as raised:
        await resend(uow, order.id)
    assert raised.value.field == "orderId"
    assert uow.store.notifications == {}


async def test_a_synced_order_gets_its_first_confirmation(uow: FakeUnitOfWorkFactory) -> None:
    order = synced(uow)
    queued = await resend(uow, order.id, actor="admin:ana")
    assert queued.created is True
    assert (queued.notification.item, queued.notification.status) == ("", "queued")
    assert [j.actor for j in uow.store.outbox] == ["send_notification"]
    assert uow.store.event_rows[0][2] == "admin:ana"


async def test_an_unsent_confirmation_is_queued_again_not_duplicated(
    uow: FakeUnitOfWorkFactory,
) -> None:
    order = synced(uow)
    first = await resend(uow, order.id)
    again = await resend(uow, order.id)
    assert again.created is False
    assert again.notification.id == first.notification.id
    assert len(uow.store.notifications) == 1
    assert [j.arguments["notification_id"] for j in uow.store.outbox] == [
        str(first.notification.id)
    ] * 2


async def test_an_unsent_confirmation_refuses_another_phone(uow: FakeUnitOfWorkFactory) -> None:
    order = synced(uow)
    await resend(uow, order.id)
    with pytest.raises(InvalidInput) as raised:
        await resend(uow, order.id, phone="+972 54 999 8877")
    assert raised.value.field == "phone"
    assert len(uow.store.outbox) == 1


async def test_a_sent_confirmation_is_refused_without_force(uow: FakeUnitOfWorkFactory) -> None:
    order = synced(uow)
    await resend(uow, order.id)
    mark(uow, "sent")
    with pytest.raises(InvalidInput, match="pass force: true") as raised:
        await resend(uow, order.id)
    assert raised.value.field == "force"


async def test_force_adds_a_numbered_resend_row(uow: FakeUnitOfWorkFactory) -> None:
    order = synced(uow)
    await resend(uow, order.id)
    mark(uow, "delivered")
    queued = await resend(uow, order.id, force=True)
    assert queued.created is True
    assert sorted(n.item for n in uow.store.notifications.values()) == ["", "resend-1"]


async def test_force_overrides_alerts_off(uow: FakeUnitOfWorkFactory) -> None:
    order = synced(uow, whatsapp_alerts_enabled=False)
    with pytest.raises(InvalidInput):
        await resend(uow, order.id)
    assert (await resend(uow, order.id, force=True)).created is True


async def test_force_never_overrides_a_missing_sync(uow: FakeUnitOfWorkFactory) -> None:
    order = stored(uow.store)
    with pytest.raises(InvalidInput, match="not synced"):
        await resend(uow, order.id, force=True)


async def test_an_invalid_phone_is_refused_before_anything_is_read(
    uow: FakeUnitOfWorkFactory,
) -> None:
    with pytest.raises(InvalidInput) as raised:
        await resend(uow, uuid.uuid4(), phone="not a phone")
    assert raised.value.field == "phone"


async def test_a_given_phone_replaces_the_orders(uow: FakeUnitOfWorkFactory) -> None:
    order = synced(uow)
    queued = await resend(uow, order.id, phone="+972 54 999 8877")
    assert queued.notification.phone == "972549998877"
    assert queued.notification.phone != order.client_phone


async def test_a_missing_template_is_refused_naming_it(uow: FakeUnitOfWorkFactory) -> None:
    order = synced(uow)
    uow.store.templates.clear()
    with pytest.raises(InvalidInput) as raised:
        await resend(uow, order.id)
    assert raised.value.field == "template"
    assert uow.store.notifications == {}
