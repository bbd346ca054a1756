"""Order intake: product, urgency, currency, quantity and dates; nothing lost; any JSON is safe."""

import copy
import json
import random
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest

from domain.errors import InvalidOrderBody
from domain.orders.model import Order
from tests.unit.intake_support import BASE, DELETE, body_with, build, fields


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
