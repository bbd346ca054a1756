"""The CBB contact adapter against the fake vendor server: create vs update, and every failure
mapped onto the vendor error taxonomy, retried in process only when it may help."""

from __future__ import annotations

import logging

import pytest

from app.contacts.ports import Contact, ContactSyncError
from app.vendors import ErrorKind
from domain.contacts.fields import CustomField, FieldType
from infrastructure.vendors.cbb import CbbClient
from infrastructure.vendors.cbb_adapters import CbbContactSync
from tests.integration.cbb_support import FIELDS, PHONE, contact
from tests.services import free_port
from tests.vendor import FakeVendor


async def test_a_new_contact_is_created_with_every_custom_field(
    fake_vendor: FakeVendor, cbb_client: CbbClient
) -> None:
    contact_id, created = await CbbContactSync(cbb_client).upsert(contact())

    held = fake_vendor.contact(PHONE)
    assert held is not None
    assert (contact_id, created) == (str(held["id"]), True)
    assert (held["first_name"], held["email"], held["language"]) == (
        "Dana Levi",
        "dana@example.com",
        "he",
    )
    assert held["custom_fields"] == {f.name: f.value for f in FIELDS}
    [create] = fake_vendor.requests("contact.create")
    # Actions name fields: CBB refuses field ids there.
    assert all(set(a) == {"action", "field_name", "value"} for a in create["body"]["actions"])
    assert [r["operation"] for r in fake_vendor.requests()] == ["contact.get", "contact.create"]


async def test_a_repeat_customer_has_every_custom_field_updated(
    fake_vendor: FakeVendor, cbb_client: CbbClient
) -> None:
    sync = CbbContactSync(cbb_client)
    first_id, _ = await sync.upsert(contact())
    second = contact(OrderNumber="IL250202", order_sum_ils="480", order_urgent="0")

    contact_id, created = await sync.upsert(second)

    assert (contact_id, created) == (first_id, False)
    [held] = fake_vendor.contacts()
    assert held["custom_fields"] == {f.name: f.value for f in second.fields}
    updates = fake_vendor.requests("field.update")
    assert len(updates) == len(FIELDS)
    assert all(u["body"]["value"] for u in updates)  # form-encoded value=
    assert len(fake_vendor.requests("contact.create")) == 1


async def test_the_phone_is_the_contact_id_when_the_vendor_gives_none(
    fake_vendor: FakeVendor, cbb_client: CbbClient
) -> None:
    fake_vendor.script("contact.create", "omit_id")
    assert await CbbContactSync(cbb_client).upsert(contact()) == (PHONE, True)


async def test_success_false_is_a_vendor_error_not_retried_in_process(
    fake_vendor: FakeVendor, cbb_client: CbbClient
) -> None:
    fake_vendor.script("contact.get", "success_false", message="contact store offline")
    with pytest.raises(ContactSyncError) as caught:
        await CbbContactSync(cbb_client).upsert(contact())
    assert caught.value.category == "vendor_error"
    assert "contact store offline" in caught.value.message
    assert len(fake_vendor.requests("contact.get")) == 1
    assert fake_vendor.contacts() == []


@pytest.mark.parametrize("status", [400, 404, 422])
async def test_a_4xx_is_a_validation_error_never_retried(
    fake_vendor: FakeVendor, cbb_client: CbbClient, status: int
) -> None:
    fake_vendor.script("contact.create", "status", status=status, times=None)
    with pytest.raises(ContactSyncError) as caught:
        await CbbContactSync(cbb_client).upsert(contact())
    assert (caught.value.category, caught.value.kind) == ("validation", ErrorKind.PERMANENT)
    assert f"HTTP {status}" in caught.value.message
    assert len(fake_vendor.requests("contact.create")) == 1


async def test_an_unknown_field_is_refused_by_the_vendor_as_validation(
    fake_vendor: FakeVendor, cbb_client: CbbClient
) -> None:
    bad = Contact(
        phone=PHONE,
        name="Dana",
        email=None,
        language="he",
        fields=(CustomField("no_such_field", 1, FieldType.TEXT, "x"),),
    )
    with pytest.raises(ContactSyncError) as caught:
        await CbbContactSync(cbb_client).upsert(bad)
    assert caught.value.category == "validation"
    assert "no_such_field" in caught.value.message


async def test_a_refused_token_is_an_auth_error_that_never_names_the_token(
    fake_vendor: FakeVendor,
) -> None:
    wrong = "wrong-token-8d1c"
    cbb = CbbClient(fake_vendor.base_url, wrong, timeout_s=5, retries=2, backoff_s=0)
    try:
        with pytest.raises(ContactSyncError) as caught:
            await CbbContactSync(cbb).upsert(contact())
    finally:
        await cbb.aclose()
    assert (caught.value.category, caught.value.kind) == ("auth", ErrorKind.PERMANENT)
    assert wrong not in str(caught.value)
    [seen] = fake_vendor.requests()
    assert (seen["status"], seen["token_ok"]) == (401, False)


async def test_5xx_is_retried_in_process_then_raised(
    fake_vendor: FakeVendor, cbb_client: CbbClient
) -> None:
    fake_vendor.script("contact.get", "status", status=503, times=None)
    with pytest.raises(ContactSyncError) as caught:
        await CbbContactSync(cbb_client).upsert(contact())
    assert (caught.value.category, caught.value.kind) == ("vendor_error", ErrorKind.TRANSIENT)
    assert len(fake_vendor.requests("contact.get")) == 3  # the call and cbb_retries=2 more


async def test_a_5xx_then_an_answer_succeeds_within_the_call(
    fake_vendor: FakeVendor, cbb_client: CbbClient
) -> None:
    fake_vendor.script("contact.get", "status", status=502)
    assert (await CbbContactSync(cbb_client).upsert(contact()))[1] is True
    assert [r["status"] for r in fake_vendor.requests("contact.get")] == [502, 200]


@pytest.mark.parametrize("retry_after", ["7", "0"])
async def test_429_is_rate_limited_with_the_vendors_delay(
    fake_vendor: FakeVendor, cbb_client: CbbClient, retry_after: str
) -> None:
    fake_vendor.script("contact.get", "rate_limit", retry_after=retry_after)
    with pytest.raises(ContactSyncError) as caught:
        await CbbContactSync(cbb_client).upsert(contact())
    assert (caught.value.category, caught.value.kind) == ("rate_limit", ErrorKind.RATE_LIMITED)
    assert caught.value.retry_after_s == float(retry_after)
    assert len(fake_vendor.requests("contact.get")) == 1  # the job waits, not this call


async def test_a_slow_vendor_times_out_after_the_retries(fake_vendor: FakeVendor) -> None:
    fake_vendor.script("contact.get", "slow", delay=2, times=None)
    cbb = CbbClient(fake_vendor.base_url, fake_vendor.token, timeout_s=0.2, retries=1, backoff_s=0)
    try:
        with pytest.raises(ContactSyncError) as caught:
            await CbbContactSync(cbb).upsert(contact())
    finally:
        await cbb.aclose()
    assert (caught.value.category, caught.value.kind) == ("timeout", ErrorKind.TRANSIENT)
    assert len(fake_vendor.requests("contact.get")) == 2


async def test_a_closed_port_is_a_network_error() -> None:
    cbb = CbbClient(f"http://127.0.0.1:{free_port()}", "t0k3n", timeout_s=2, retries=1, backoff_s=0)
    try:
        with pytest.raises(ContactSyncError) as caught:
            await CbbContactSync(cbb).upsert(contact())
    finally:
        await cbb.aclose()
    assert (caught.value.category, caught.value.kind) == ("network", ErrorKind.TRANSIENT)


async def test_the_token_is_never_in_an_error_or_a_log_line(
    fake_vendor: FakeVendor, cbb_client: CbbClient, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    # A vendor echoing the request back, in every failure shape.
    echo = f"bad request with X-ACCESS-TOKEN {fake_vendor.token}"
    failures: list[str] = []
    for outcome, extra in (
        ("status", {"status": 400}),
        ("status", {"status": 500, "times": None}),
        ("success_false", {}),
        ("rate_limit", {}),
    ):
        fake_vendor.reset()
        fake_vendor.script("contact.get", outcome, message=echo, **extra)
        with pytest.raises(ContactSyncError) as caught:
            await CbbContactSync(cbb_client).upsert(contact())
        failures.append(str(caught.value))
    assert len(failures) == 4
    assert any("bad request" in f for f in failures)  # the vendor's words are kept
    for text in [*failures, caplog.text]:
        assert fake_vendor.token not in text
    assert all(r["headers"]["x-access-token"] == "[redacted]" for r in fake_vendor.requests())
