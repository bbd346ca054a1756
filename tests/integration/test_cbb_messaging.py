"""The CBB messaging adapter against the fake vendor server: templates as sent, failures, and a
send retried in process only when it surely never reached the vendor."""

from __future__ import annotations

import logging
from typing import Any

import pytest

from app.notifications.ports import MessagingError
from infrastructure.vendors.cbb import CbbClient
from infrastructure.vendors.cbb_adapters import CbbContactSync, CbbMessaging
from tests.integration.cbb_support import PHONE, contact, message
from tests.services import free_port
from tests.vendor import FakeVendor


async def test_a_template_is_sent_with_its_params_in_order(
    fake_vendor: FakeVendor, cbb_client: CbbClient
) -> None:
    await CbbContactSync(cbb_client).upsert(contact())
    provider_id = await CbbMessaging(cbb_client).send_template(message())
    [sent] = fake_vendor.messages()
    assert provider_id == sent["id"]
    expected: dict[str, Any] = {
        "phone": PHONE,
        "template": "order_confirmation_global",
        "language": "he",
        "params": list(message().params),
        "reference": "notification-1",
    }
    assert {k: sent[k] for k in expected} == expected


async def test_a_message_accepted_without_an_id_returns_none(
    fake_vendor: FakeVendor, cbb_client: CbbClient
) -> None:
    await CbbContactSync(cbb_client).upsert(contact())
    fake_vendor.script("message.send", "omit_id")
    assert await CbbMessaging(cbb_client).send_template(message()) is None
    assert len(fake_vendor.messages()) == 1


@pytest.mark.parametrize(
    ("outcome", "extra", "category"),
    [
        ("success_false", {}, "vendor_error"),
        ("status", {"status": 403}, "auth"),
        ("rate_limit", {"retry_after": "30"}, "rate_limit"),
    ],
)
async def test_send_failures_raise_messaging_errors(
    fake_vendor: FakeVendor,
    cbb_client: CbbClient,
    outcome: str,
    extra: dict[str, Any],
    category: str,
) -> None:
    await CbbContactSync(cbb_client).upsert(contact())
    fake_vendor.script("message.send", outcome, **extra)
    with pytest.raises(MessagingError) as caught:
        await CbbMessaging(cbb_client).send_template(message())
    assert caught.value.category == category
    assert fake_vendor.messages() == []


async def test_a_message_to_an_unknown_contact_is_refused(
    fake_vendor: FakeVendor, cbb_client: CbbClient
) -> None:
    with pytest.raises(MessagingError) as caught:
        await CbbMessaging(cbb_client).send_template(message("15550001111"))
    assert caught.value.category == "validation"


@pytest.mark.parametrize(
    ("outcome", "extra", "category"),
    [
        ("slow", {"delay": 1}, "timeout"),
        ("status", {"status": 502}, "vendor_error"),
    ],
)
async def test_a_send_the_vendor_may_have_acted_on_is_never_repeated_in_process(
    fake_vendor: FakeVendor, outcome: str, extra: dict[str, Any], category: str
) -> None:
    """After a read timeout or a 5xx the vendor may have sent the message: only the job (with
    its claim) decides to try again; contact reads and field updates are retried in process."""
    cbb = CbbClient(fake_vendor.base_url, fake_vendor.token, timeout_s=0.3, retries=2, backoff_s=0)
    try:
        await CbbContactSync(cbb).upsert(contact())
        fake_vendor.script("message.send", outcome, times=None, **extra)
        with pytest.raises(MessagingError) as caught:
            await CbbMessaging(cbb).send_template(message())
    finally:
        await cbb.aclose()
    assert caught.value.category == category
    assert len(fake_vendor.requests("message.send")) == 1


async def test_a_send_that_never_connected_is_retried_in_process(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.WARNING)
    cbb = CbbClient(f"http://127.0.0.1:{free_port()}", "t0k3n", timeout_s=2, retries=2, backoff_s=0)
    try:
        with pytest.raises(MessagingError) as caught:
            await CbbMessaging(cbb).send_template(message())
    finally:
        await cbb.aclose()
    assert caught.value.category == "network"
    retries = [r for r in caplog.records if "message.send failed (network), retry" in r.message]
    assert len(retries) == 2
