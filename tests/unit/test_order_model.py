"""The Order aggregate's own rules, its events, the read model of a new order and flags."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

import pytest

from app.orders.views import FlagView, view_of
from domain.events import DomainEvent
from domain.orders.countries import ISO_CODES, UNKNOWN_FLAG, display_name, flag
from domain.orders.model import OrderCreated, OrderFlag, OrderRetriggered, is_test_order_id
from tests.unit.intake_support import ID, NOW, body_with, build


@pytest.mark.parametrize(
    ("order_id", "test"),
    [
        ("IL251101GB07-TEST", True),
        ("il251101gb07-test", True),
        ("IL1-Test", True),
        ("IL1-TESTER", False),
        ("TEST-IL1", False),
        ("IL1TEST", False),
        ("-TEST", True),
    ],
)
def test_test_orders_are_named_by_their_suffix(order_id: str, test: bool) -> None:
    assert is_test_order_id(order_id) is test


def test_an_order_knows_it_is_a_test_order() -> None:
    assert build(body_with(order__id="IL9-TEST", form__orderId="IL9-TEST")).is_test


def test_record_created_copies_the_facts_the_jobs_need() -> None:
    order = build(body_with())
    order.record_created(actor="key:vk_store")
    (event,) = order.events
    assert isinstance(event, OrderCreated)
    assert (event.aggregate_id, event.occurred_at, event.actor) == (ID, NOW, "key:vk_store")
    assert event.payload() == {
        "order_id": "IL251101GB07",
        "branch": "il",
        "product_country": "uk",
        "is_urgent": False,
        "phone_valid": True,
        "whatsapp_alerts_enabled": True,
    }


def test_a_retrigger_is_an_order_created_of_its_own_type() -> None:
    # The policies route by isinstance: a retrigger must cause what a creation causes.
    assert issubclass(OrderRetriggered, OrderCreated)
    assert (OrderRetriggered.type, OrderCreated.type) == ("order.retriggered", "order.created")


def test_orders_compare_without_their_events() -> None:
    first, second = build(body_with()), build(body_with())
    first.record_created()
    assert first == second


def test_the_read_model_of_a_new_order_mirrors_it() -> None:
    order = build(body_with(form__client__phone="not a phone"))
    view = view_of(order)
    assert (view.id, view.order_id, view.order_status, view.amount, view.client_phone) == (
        order.id,
        "IL251101GB07",
        "active",
        order.amount,
        order.client_phone,
    )
    assert view.flags == [FlagView(f.field, f.issue) for f in order.flags]
    assert view.flags  # the odd phone was flagged


def test_flags_are_values() -> None:
    assert OrderFlag("phone", "invalid") == OrderFlag("phone", "invalid")
    assert len({OrderFlag("phone", "invalid"), OrderFlag("phone", "invalid")}) == 1


@dataclass(frozen=True, kw_only=True)
class Sample(DomainEvent):
    type = "sample.happened"
    aggregate_type = "sample"

    ref: uuid.UUID
    at: datetime
    items: list[str]


def test_event_payloads_turn_ids_and_times_into_text() -> None:
    ref = uuid.UUID(int=7)
    event = Sample(
        aggregate_id=uuid.uuid4(), occurred_at=NOW, ref=ref, at=NOW, items=["a"], actor="x"
    )
    assert event.payload() == {"ref": str(ref), "at": NOW.isoformat(), "items": ["a"]}


def test_event_actor_defaults_to_nobody() -> None:
    event = Sample(aggregate_id=ID, occurred_at=NOW, ref=ID, at=NOW, items=[])
    assert event.actor is None


@pytest.mark.parametrize(
    ("country", "expected"),
    [
        ("uk", "🇬🇧"),
        ("schengen", "🇪🇺"),
        ("  USA ", "🇺🇸"),
        ("atlantis", UNKNOWN_FLAG),
        ("", UNKNOWN_FLAG),
    ],
)
def test_flag_by_country_key(country: str, expected: str) -> None:
    assert flag(country) == expected


def test_every_known_country_has_a_two_letter_flag() -> None:
    for country, code in ISO_CODES.items():
        letters = [chr(ord(c) - 0x1F1E6 + ord("A")) for c in flag(country)]
        assert "".join(letters) == code


@pytest.mark.parametrize(
    ("key", "name"),
    [("new_zealand", "New Zealand"), ("sri_lanka", "Sri Lanka"), ("_", "Unknown"), ("", "Unknown")],
)
def test_display_name_of_an_untranslated_key(key: str, name: str) -> None:
    assert display_name(key) == name
