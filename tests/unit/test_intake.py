"""Table tests for order_from_body: storefront fixtures, rejections, flags, fuzzed bodies."""

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest

from domain.errors import InvalidOrderBody
from domain.orders.model import OrderStatus
from tests.unit.intake_support import BASE, DELETE, ID, NOW, body_with, build, fields, fixture


def test_fixture_il_uk_eta() -> None:
    order = build(fixture("il-uk-eta.json"))
    assert (order.branch, order.client_phone, order.visa_document_validity_days) == (
        "il",
        "972541112233",
        730,
    )
    assert (order.is_urgent, order.processing_days, order.currency) == (False, 3, "ILS")
    assert (order.amount, order.product_country, order.is_test) == (Decimal("165.00"), "uk", False)
    assert order.extra_data["form"]["meta"]["step"] == 4
    # Not in phonenumbers' +972 ranges, but shaped like an Israeli mobile: valid, nothing flagged.
    assert order.phone_valid is True
    assert fields(order) == set()


def test_fixture_se_india_extra_keys() -> None:
    order = build(fixture("se-india-uppercase-branch-extra-keys.json"))
    assert (order.branch, order.client_phone, order.phone_valid) == ("se", "46701234567", True)
    assert (order.visa_document_validity_days, order.is_urgent) == (365, True)
    assert (order.processing_days, order.currency, order.visa_quantity) == (1, "SEK", 2)
    assert order.extra_data["order"]["_id"] == "6722f0a91c3e"
    assert order.extra_data["order"]["created_at"] == "2025-11-02T09:14:03Z"
    assert order.extra_data["order"]["coupon"]["code"] == "HOST10"
    assert order.extra_data["form"]["experimentalBlock"] == {"abTest": "B"}
    assert order.extra_data["form"]["entry"]["port"] == "Delhi"
    assert order.entry_date == datetime(2025, 12, 18, tzinfo=UTC)
    assert order.product_data["urgency"] == "urgent"
    assert len(order.applicants_data) == 2
    assert order.whatsapp_alerts_enabled is False
    assert order.flags == []


def test_fixture_il_test_order() -> None:
    order = build(fixture("il-test-order.json"))
    assert order.is_test
    assert order.order_id == "IL251103GB99-TEST"


def test_clean_body_builds_the_whole_order() -> None:
    order = build(BASE)
    assert order.flags == []
    assert (order.id, order.order_id, order.form_id) == (ID, "IL251101GB07", "frm_1")
    assert (order.client_name, order.client_email) == ("Avi Cohen", "avi@example.com")
    assert (order.client_phone, order.phone_valid) == ("972507247157", True)
    assert (order.order_status, order.amount) == (OrderStatus.ACTIVE, Decimal("165.00"))
    assert order.webhook_received_at == order.created_at == order.updated_at == NOW
    assert order.processed_at is None
    assert order.events == []  # the handler records creation, not the builder
    assert order.product_data == {**BASE["form"]["product"], "urgency": "standard"}
    assert order.extra_data == {"order": {}, "form": {"urgency": "none"}}


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ([], None),
        ("order", None),
        (None, None),
        (42, None),
        ({}, "order"),
        ({"order": [], "form": {}}, "order"),
        ({"order": "IL1", "form": {}}, "order"),
        ({"order": {"id": "IL1"}}, "form"),
        ({"order": {"id": "IL1"}, "form": "x"}, "form"),
        ({"order": {"id": "IL1"}, "form": None}, "form"),
        (body_with(order__id=DELETE), "order.id"),
        (body_with(order__id=""), "order.id"),
        (body_with(order__id="   "), "order.id"),
        (body_with(order__id=None), "order.id"),
        (body_with(order__id=["IL1"]), "order.id"),
        (body_with(order__id=True), "order.id"),
        (body_with(order__id="X" * 65), "order.id"),
        *[
            (body_with(order__amount=amount), "order.amount")
            for amount in ["abc", "1,5", [], {}, True, "NaN", float("nan"), -1, "-0.01"]
        ],
        *[
            (body_with(order__amount=amount), "order.amount")
            for amount in [float("inf"), "Infinity", 10**10, "1e12", "9999999999.995"]
        ],
    ],
)
def test_rejections_name_the_field(body: Any, field: str | None) -> None:
    with pytest.raises(InvalidOrderBody) as caught:
        build(body)
    assert caught.value.field == field


@pytest.mark.parametrize(
    ("amount", "expected", "flagged"),
    [
        (165, "165.00", False),
        ("165.50", "165.50", False),
        (" 12 ", "12.00", False),
        (0, "0.00", False),
        (19.99, "19.99", False),
        (1.005, "1.01", True),
        (None, "0.00", True),
        ("", "0.00", True),
        (DELETE, "0.00", True),
    ],
)
def test_amount(amount: object, expected: str, flagged: bool) -> None:
    order = build(body_with(order__amount=amount))
    assert order.amount == Decimal(expected)
    assert ("order.amount" in fields(order)) is flagged


@pytest.mark.parametrize(
    ("status", "expected", "flagged"),
    [
        *[(s, OrderStatus(s), False) for s in ("active", "completed", "issue", "canceled")],
        (" COMPLETED ", OrderStatus.COMPLETED, False),
        ("pending", OrderStatus.PENDING, False),
        (DELETE, OrderStatus.PENDING, False),
        (None, OrderStatus.PENDING, False),
        ("", OrderStatus.PENDING, False),
        ("refunded", OrderStatus.ACTIVE, True),
        (3, OrderStatus.ACTIVE, True),
    ],
)
def test_status(status: object, expected: OrderStatus, flagged: bool) -> None:
    order = build(body_with(order__status=status))
    assert order.order_status is expected
    assert ("order.status" in fields(order)) is flagged
    assert ("status" in order.extra_data["order"]) is flagged  # the odd value is kept


@pytest.mark.parametrize(
    ("branch", "order_id", "expected", "flagged"),
    [
        ("SE", "SE1", "se", False),
        ("kz", "IL1", "kz", False),
        (DELETE, "RU25", "ru", True),
        ("xx", "CO25", "co", True),
        ("xx", "AB25", "il", True),
    ],
)
def test_branch(branch: object, order_id: str, expected: str, flagged: bool) -> None:
    order = build(body_with(order__branch=branch, order__id=order_id))
    assert order.branch == expected
    assert ("order.branch" in fields(order)) is flagged


@pytest.mark.parametrize(
    ("phone", "expected", "valid", "kept"),
    [
        ({"code": "+972", "number": "0507247157"}, "972507247157", True, False),
        ("+46 70 123 45 67", "46701234567", True, False),
        (972507247157, "972507247157", True, False),
        ({"code": "+972", "number": "123"}, "972123", False, False),
        ("0000000000", "0000000000", False, False),
        (DELETE, None, False, False),
        ({"code": "+972"}, None, False, True),
        (["972507247157"], None, False, True),
    ],
)
def test_phone(phone: object, expected: str | None, valid: bool, kept: bool) -> None:
    order = build(body_with(form__client__phone=phone))
    assert (order.client_phone, order.phone_valid) == (expected, valid)
    assert ("form.client.phone" in fields(order)) is not valid
    client_extra = order.extra_data["form"].get("client", {})
    assert ("phone" in client_extra) is kept


@pytest.mark.parametrize(
    ("path", "value", "flag"),
    [
        ("form__client__name", DELETE, "form.client.name"),
        ("form__client__name", "  ", "form.client.name"),
        ("form__client__name", ["Avi"], "form.client.name"),
        ("form__client__name", "A" * 256, "form.client.name"),
        ("form__client__email", DELETE, "form.client.email"),
        ("form__client__email", "avi-at-example", "form.client.email"),
        ("form__client__whatsappAlertsEnabled", "yes", "form.client.whatsappAlertsEnabled"),
        ("form__client", "x", "form.client"),
        ("form__client", DELETE, "form.client"),
        ("form__product", [], "form.product"),
        ("form__product__validity", "7_days", "form.product.validity"),
        ("form__product__wait", "three", "form.product.wait"),
        ("form__applicants", "two", "form.applicants"),
        ("form__quantity", DELETE, "form.quantity"),
        ("form__entry", {"date": "next tuesday"}, "form.entry.date"),
        ("order__currency", DELETE, "order.currency"),
        ("order__currency", "shekels", "order.currency"),
        ("order__domain", "d" * 256, "order.domain"),
        ("order__payment_id", {"id": 1}, "order.payment_id"),
    ],
)
def test_odd_values_are_stored_and_flagged(path: str, value: object, flag: str) -> None:
    order = build(body_with(**{path: value}))
    assert flag in fields(order)


def test_missing_client_stores_empty_name_and_no_contact() -> None:
    order = build(body_with(form__client="x"))
    assert (order.client_name, order.client_email, order.client_phone) == ("", None, None)
    assert order.whatsapp_alerts_enabled is False
    assert order.extra_data["form"]["client"] == "x"


def test_unusable_text_is_kept_where_it_was() -> None:
    order = build(body_with(order__domain="d" * 256, form__product__docName=["eVisa"]))
    assert order.domain is None
    assert order.extra_data["order"]["domain"] == "d" * 256
    assert order.product_doc_name is None
    assert order.product_data["docName"] == ["eVisa"]
