"""Table tests for order_from_body: storefront fixtures, rejections, flags, fuzzed bodies."""

import copy
import json
import random
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest

from domain.errors import InvalidOrderBody
from domain.orders.intake import order_from_body
from domain.orders.model import Order, OrderStatus

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "vizi-orders"
NOW = datetime(2025, 11, 3, 12, tzinfo=UTC)
ID = UUID("00000000-0000-4000-8000-000000000001")
DELETE = object()

BASE: dict[str, Any] = {
    "order": {
        "id": "IL251101GB07",
        "form_id": "frm_1",
        "branch": "il",
        "domain": "visanet.co.il",
        "payment_processor": "bit",
        "payment_id": "bit_1",
        "amount": 165,
        "currency": "ILS",
        "status": "active",
    },
    "form": {
        "id": "frm_1",
        "country": "uk",
        "client": {
            "name": "Avi Cohen",
            "email": "avi@example.com",
            "phone": {"code": "+972", "number": "0507247157"},
            "whatsappAlertsEnabled": True,
        },
        "product": {"name": "uk_2_years", "country": "uk", "validity": "2_years", "wait": 3},
        "quantity": 1,
        "urgency": "none",
        "orderId": "IL251101GB07",
        "applicants": [{"id": "apl_1"}],
    },
}


def build(body: Any) -> Order:
    return order_from_body(body, id=ID, now=NOW)


def body_with(**changes: Any) -> dict[str, Any]:
    """BASE with dotted paths replaced (`form__client__name="x"`), or removed with DELETE."""
    body = copy.deepcopy(BASE)
    for path, value in changes.items():
        *parents, last = path.split("__")
        target = body
        for key in parents:
            target = target[key]
        if value is DELETE:
            target.pop(last, None)
        else:
            target[last] = value
    return body


def fields(order: Order) -> set[str]:
    return {flag.field for flag in order.flags}


def fixture(name: str) -> Any:
    path = FIXTURES / name
    if not path.is_file():
        pytest.skip(f"storefront fixture {path} is absent")
    return json.loads(path.read_text())


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


@pytest.mark.parametrize(
    ("product_country", "form_country", "expected", "flagged"),
    [
        ("india", "india", "india", False),
        ("Vietnam", DELETE, "vietnam", False),
        (DELETE, "morocco", "morocco", False),
        (DELETE, DELETE, "unknown", True),
        (["uk"], DELETE, "unknown", True),
    ],
)
def test_product_country(
    product_country: object, form_country: object, expected: str, flagged: bool
) -> None:
    body = body_with(form__product__country=product_country, form__country=form_country)
    order = build(body)
    assert order.product_country == expected
    assert ("form.product.country" in fields(order)) is flagged


@pytest.mark.parametrize(
    ("urgency", "wait", "country", "urgent", "days"),
    [
        ("next_day", 3, "uk", True, 1),
        ("few_hours", DELETE, "morocco", True, 1),
        ("none", 10, "uk", False, 10),
        ("none", DELETE, "morocco", False, 5),
        (DELETE, 0, "vietnam", False, 7),
        ("3_days", DELETE, "india", False, 3),
    ],
)
def test_urgency_and_processing_days(
    urgency: object, wait: object, country: str, urgent: bool, days: int
) -> None:
    body = body_with(form__urgency=urgency, form__product__wait=wait)
    body["form"]["product"]["country"] = body["form"]["country"] = country
    order = build(body)
    assert (order.is_urgent, order.processing_days) == (urgent, days)
    assert order.product_data["urgency"] == ("urgent" if urgent else "standard")


@pytest.mark.parametrize(
    ("currency", "country", "expected"),
    [("sek", "uk", "SEK"), (DELETE, "india", "INR"), ("shekels", "canada", "CAD")],
)
def test_currency(currency: object, country: str, expected: str) -> None:
    body = body_with(order__currency=currency)
    body["form"]["product"]["country"] = body["form"]["country"] = country
    assert build(body).currency == expected


@pytest.mark.parametrize(
    ("quantity", "applicants", "expected", "flagged"),
    [
        (2, [{}, {}], 2, False),
        (10, [], 10, False),
        (1, [{}, {}], 1, True),
        (DELETE, [{}, {}, {}], 3, True),
        (DELETE, DELETE, 1, True),
        (0, [], 1, True),
        (11, [{}], 1, True),
        ("2", [{}, {}], 2, True),
        (True, [], 1, True),
        (DELETE, [{}] * 11, 1, True),
    ],
)
def test_quantity(quantity: object, applicants: object, expected: int, flagged: bool) -> None:
    order = build(body_with(form__quantity=quantity, form__applicants=applicants))
    assert order.visa_quantity == expected
    assert ("form.quantity" in fields(order)) is flagged


@pytest.mark.parametrize(
    ("entry", "expected"),
    [
        ({"date": "2025-12-18", "port": "Delhi"}, datetime(2025, 12, 18, tzinfo=UTC)),
        ({"date": "2025-12-18T09:00:00+02:00"}, datetime(2025, 12, 18, 7, tzinfo=UTC)),
        ({"date": "soon"}, None),
        ({"port": "Delhi"}, None),
        ("2025-12-18", None),
        (DELETE, None),
    ],
)
def test_entry_date(entry: object, expected: datetime | None) -> None:
    order = build(body_with(form__entry=entry))
    assert order.entry_date == expected
    if entry is not DELETE:
        assert order.extra_data["form"]["entry"] == entry


def test_nothing_sent_is_lost() -> None:
    body = body_with(
        order___id="abc",
        order__coupon={"code": "X"},
        form__termsAgreed=True,
        form__fileTransferMethod="email",
        form__client__address={"city": "Haifa"},
        form__orderId="IL-OTHER",
        form__country="israel",
    )
    body["sentAt"] = "2025-11-03"
    order = build(body)
    assert order.extra_data["order"] == {"_id": "abc", "coupon": {"code": "X"}}
    form_extra = order.extra_data["form"]
    assert form_extra["termsAgreed"] is True
    assert form_extra["fileTransferMethod"] == "email"
    assert form_extra["client"] == {"address": {"city": "Haifa"}}
    assert (form_extra["orderId"], form_extra["country"]) == ("IL-OTHER", "israel")
    assert order.extra_data["body"] == {"sentAt": "2025-11-03"}


HAND_MADE: list[Any] = [
    {"order": {"id": "IL1"}, "form": {}},
    {"order": {"id": "IL1"}, "form": {"client": "x", "product": [], "applicants": {}}},
    {"order": {"id": 12345, "amount": "7"}, "form": {"client": {"phone": 972507247157}}},
    {"order": {"id": "IL1", "branch": []}, "form": {"entry": {"date": 20251218}}},
    {"order": {"id": "IL1", "status": {}}, "form": {"product": {"urgency": ["x"], "wait": 1e300}}},
    {"order": {"id": "IL1", "currency": None}, "form": {"quantity": 1e9, "country": []}},
    {"order": {"id": "I" * 64, "amount": 9999999999.99}, "form": {"client": {"name": 1}}},
    {"order": {"id": "IL1"}, "form": {"client": {"phone": {"code": [], "number": {}}}}},
]


def random_json(rng: random.Random, depth: int = 0) -> Any:
    """A random JSON-ish value: scalars of every kind, and nested containers while shallow."""
    scalars: list[Any] = [None, True, False, 0, -1, 10**40, 1.5, float("nan"), "", "IL1", "-TEST"]
    scalars += ["2025-12-18", "+972 050", "1e999", "NaN", "x" * 300, rng.random()]
    if depth >= 3 or rng.random() < 0.5:
        return rng.choice(scalars)
    keys = ["id", "amount", "branch", "client", "phone", "code", "number", "product", "entry"]
    keys += ["date", "country", "quantity", "applicants", "status", "currency", "order", "form"]
    if rng.random() < 0.3:
        return [random_json(rng, depth + 1) for _ in range(rng.randrange(4))]
    return {rng.choice(keys): random_json(rng, depth + 1) for _ in range(rng.randrange(6))}


def mutated(rng: random.Random) -> Any:
    """BASE with a few values anywhere inside replaced by random JSON, or dropped."""
    body = copy.deepcopy(BASE)
    for _ in range(rng.randrange(1, 5)):
        target: Any = body
        while isinstance(target, dict) and target and rng.random() < 0.7:
            key = rng.choice(list(target))
            if not isinstance(target[key], dict):
                break
            target = target[key]
        if isinstance(target, dict) and target:
            key = rng.choice(list(target))
            if rng.random() < 0.2:
                del target[key]
            else:
                target[key] = random_json(rng)
    return body


def test_any_json_gives_an_order_or_invalid_order_body() -> None:
    rng = random.Random(20251103)
    bodies = (
        HAND_MADE + [mutated(rng) for _ in range(1500)] + [random_json(rng) for _ in range(300)]
    )
    built, rejected = 0, set()
    for body in bodies:
        try:
            order = build(body)
        except InvalidOrderBody as error:
            rejected.add(error.field)
            continue
        built += 1
        assert isinstance(order, Order)
        assert 1 <= order.visa_quantity <= 10
        assert order.processing_days >= 1
        assert Decimal(0) <= order.amount < Decimal(10) ** 10
        json.dumps([order.product_data, order.applicants_data, order.extra_data])
    assert rejected <= {None, "order", "form", "order.id", "order.amount"}
    assert built > 500  # the mutations must mostly stay storable, or the test proves little
