"""The sandbox vendors on both dialects: what they record in `sandbox_messages`, what they
know across instances (processes), their scripted failures; and which adapters bootstrap wires."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest
from sqlalchemy import select

from app.contacts.ports import Contact, ContactSyncError
from app.notifications.ports import MessagingError, TemplateMessage
from domain.contacts.fields import CustomField, FieldType
from infrastructure.db.tables import sandbox_messages
from infrastructure.vendors.cbb_adapters import CbbContactSync, CbbMessaging
from infrastructure.vendors.sandbox import SandboxContactSync, SandboxMessaging
from tests.vendor import FakeVendor
from visapi.bootstrap import Container, bootstrap
from visapi.settings import Settings

PHONE = "972501234567"
CONTACT = Contact(
    phone=PHONE,
    name="Dana Levi",
    email="dana@example.com",
    language="he",
    gender="female",
    fields=(CustomField("OrderNumber", 459752, FieldType.TEXT, "IL250101"),),
)
MESSAGE = TemplateMessage(
    phone=PHONE,
    template="order_confirmation_global",
    language="he",
    params=("Dana", "2"),
    reference="notification-1",
)


async def rows(c: Container) -> list[Any]:
    query = select(sandbox_messages).order_by(sandbox_messages.c.created_at)
    async with c.engine.connect() as conn:
        return list((await conn.execute(query)).all())


@pytest.fixture
async def container(settings: Settings) -> Any:
    c = bootstrap(settings)
    yield c
    await c.aclose()


async def test_without_the_crm_bootstrap_wires_the_recording_sandboxes(
    container: Container,
) -> None:
    assert isinstance(container.contacts, SandboxContactSync)
    assert isinstance(container.messaging, SandboxMessaging)
    assert await container.contacts.upsert(CONTACT) == (
        container.contacts.contacts()[0].contact_id,
        True,
    )
    [row] = await rows(container)
    assert (row.vendor, row.operation, row.phone) == ("cbb", "contact.create", PHONE)
    assert row.payload["fields"] == [
        {"name": "OrderNumber", "field_id": 459752, "type": 0, "value": "IL250101"}
    ]
    assert (row.payload["name"], row.payload["gender"]) == ("Dana Levi", "female")


async def test_a_contact_created_by_one_process_is_known_to_another(
    container: Container,
) -> None:
    # Two instances on one database stand for an API process and a separate worker.
    first, second = SandboxContactSync(container.engine), SandboxContactSync(container.engine)
    contact_id, _created = await first.upsert(CONTACT)
    again = dataclasses.replace(CONTACT, name="Dana L.")
    assert await second.upsert(again) == (contact_id, False)
    assert contact_id.startswith("sbx_")
    assert [(r.operation, r.payload["name"]) for r in await rows(container)] == [
        ("contact.create", "Dana Levi"),
        ("contact.update", "Dana L."),
    ]


async def test_a_message_is_recorded_with_template_params_and_reference(
    container: Container,
) -> None:
    provider_id = await container.messaging.send_template(MESSAGE)
    assert provider_id
    assert provider_id.startswith("sbx_msg_")
    [row] = await rows(container)
    assert (row.operation, row.phone) == ("message.send", PHONE)
    assert row.payload == {
        "template": "order_confirmation_global",
        "language": "he",
        "params": ["Dana", "2"],
        "reference": "notification-1",
        "provider_message_id": provider_id,
    }


async def test_scripted_failures_raise_and_record_nothing(container: Container) -> None:
    messaging = SandboxMessaging(container.engine)
    contacts = SandboxContactSync(container.engine)
    messaging.fail_next(1, "rate_limit", "slow down")
    contacts.fail_always("auth", "token rejected")
    with pytest.raises(MessagingError) as sent:
        await messaging.send_template(MESSAGE)
    with pytest.raises(ContactSyncError) as synced:
        await contacts.upsert(CONTACT)
    assert (sent.value.category, synced.value.category) == ("rate_limit", "auth")
    assert await rows(container) == []
    assert await messaging.send_template(MESSAGE)  # the one failure is used up
    contacts.fail_always(None)
    assert (await contacts.upsert(CONTACT))[1] is True
    assert (messaging.calls, contacts.calls) == (2, 2)


async def test_without_an_engine_the_sandboxes_keep_records_in_memory() -> None:
    contacts, messaging = SandboxContactSync(), SandboxMessaging()
    assert (await contacts.upsert(CONTACT))[1] is True
    assert (await contacts.upsert(CONTACT))[1] is False
    await messaging.send_template(MESSAGE)
    assert [c.upserts for c in contacts.contacts()] == [2]
    assert [m.message for m in messaging.messages()] == [MESSAGE]


async def test_the_records_list_newest_first_by_phone_in_pages(container: Container) -> None:
    await container.contacts.upsert(CONTACT)
    await container.contacts.upsert(dataclasses.replace(CONTACT, phone="15550001111"))
    await container.messaging.send_template(MESSAGE)
    records = container.services.sandbox_records
    first = await records.page(2, None, None)
    assert [r.operation for r in first.items] == ["message.send", "contact.create"]
    assert first.has_next
    last = first.items[-1]
    rest = await records.page(2, (last.created_at, last.id), None)
    assert [r.phone for r in rest.items] == [PHONE]
    assert not rest.has_next
    assert [r.operation for r in (await records.page(5, None, PHONE)).items] == [
        "message.send",
        "contact.create",
    ]
    assert (await records.count(None), await records.count(PHONE)) == (3, 2)


async def test_with_the_crm_configured_bootstrap_wires_cbb(
    settings: Settings, fake_vendor: FakeVendor
) -> None:
    cbb = dataclasses.replace(
        settings, cbb_base_url=fake_vendor.base_url, cbb_token=fake_vendor.token
    )
    c = bootstrap(cbb)
    try:
        assert isinstance(c.contacts, CbbContactSync)
        assert isinstance(c.messaging, CbbMessaging)
        assert (await c.contacts.upsert(CONTACT))[1] is True
        assert fake_vendor.contact(PHONE) is not None
        assert await rows(c) == []  # nothing recorded by a sandbox
    finally:
        await c.aclose()


async def test_adapters_passed_to_bootstrap_are_used_and_shared(settings: Settings) -> None:
    contacts, messaging = SandboxContactSync(), SandboxMessaging()
    c = bootstrap(settings, contacts=contacts, messaging=messaging)
    try:
        assert (c.contacts, c.messaging) == (contacts, messaging)
        assert (c.replaced.contacts, c.replaced.messaging) == (contacts, messaging)
    finally:
        await c.aclose()
