"""The body reader alone: which keys a column consumes, what it flags, what it leaves over."""

from decimal import Decimal
from typing import Any

import pytest

from domain.errors import InvalidOrderBody
from domain.orders.intake_reader import (
    BodyReader,
    read_amount,
    read_currency,
    read_quantity,
    read_status,
)
from domain.orders.model import OrderFlag, OrderStatus


def reader(order: dict[str, Any] | None = None, form: dict[str, Any] | None = None) -> BodyReader:
    return BodyReader(order or {}, form or {})


def test_text_that_fits_is_consumed_and_left_out_of_the_rest() -> None:
    r = reader(order={"domain": "  visanet.co.il ", "coupon": "HOST10"})
    assert r.text("order", "domain", 255) == "visanet.co.il"
    assert r.rest("order") == {"coupon": "HOST10"}
    assert r.flags == []


def test_text_over_its_column_is_flagged_and_kept_where_it_was() -> None:
    r = reader(order={"payment_processor": "p" * 33})
    assert r.text("order", "payment_processor", 32) is None
    assert r.flags == [
        OrderFlag("order.payment_processor", "over 32 characters; kept in extra_data")
    ]
    assert r.rest("order") == {"payment_processor": "p" * 33}


def test_product_text_that_is_not_text_stays_in_product_data() -> None:
    r = reader()
    r.parts["form.product"] = {"docType": ["eta"]}
    assert r.text("form.product", "docType", 64) is None
    assert r.flags == [OrderFlag("form.product.docType", "not text (a list); kept in product_data")]


def test_a_blank_required_text_is_consumed_and_flagged_missing() -> None:
    r = reader(form={"name": "   "})
    assert r.text("form", "name", 255, required=True) is None
    assert r.flags == [OrderFlag("form.name", "missing")]
    assert r.rest("form") == {}


def test_obj_that_is_not_an_object_is_flagged_and_reads_as_empty() -> None:
    r = reader(form={"client": ["Avi"]})
    assert r.obj("client") == {}
    assert r.flags == [OrderFlag("form.client", "not an object; kept in extra_data")]
    assert r.rest("form") == {"client": ["Avi"]}


@pytest.mark.parametrize(
    ("raw", "cents", "flags", "consumed"),
    [
        (165, Decimal("165.00"), [], True),
        (
            "19.999",
            Decimal("20.00"),
            [OrderFlag("order.amount", "rounded to cents: '19.999' -> 20.00")],
            False,
        ),
        # A missing amount leaves nothing worth keeping: its key is consumed.
        (None, Decimal("0.00"), [OrderFlag("order.amount", "missing; stored as 0")], True),
    ],
)
def test_amount_in_cents(
    raw: object, cents: Decimal, flags: list[OrderFlag], consumed: bool
) -> None:
    r = reader(order={"amount": raw})
    assert read_amount(raw, r) == cents
    assert r.flags == flags
    assert ("amount" in r.used["order"]) is consumed


def test_amount_that_rounds_out_of_the_column_rejects_the_body() -> None:
    with pytest.raises(InvalidOrderBody) as caught:
        read_amount("9999999999.995", reader())
    assert (caught.value.message, caught.value.field) == (
        "order.amount is too large",
        "order.amount",
    )


def test_unknown_status_is_stored_as_active_and_kept() -> None:
    r = reader(order={"status": "Paid"})
    assert read_status("Paid", r) is OrderStatus.ACTIVE
    assert r.flags == [OrderFlag("order.status", "unknown status 'Paid'; stored as active")]
    assert r.rest("order") == {"status": "Paid"}


def test_missing_status_means_pending() -> None:
    r = reader()
    assert read_status(None, r) is OrderStatus.PENDING
    assert (r.flags, r.used["order"]) == ([], {"status"})


def test_a_missing_currency_comes_from_the_destination() -> None:
    r = reader()
    assert read_currency(None, "uk", r) == "GBP"
    assert r.flags == [OrderFlag("order.currency", "missing; GBP from the destination")]


def test_quantity_that_disagrees_with_the_applicants_is_kept_and_flagged() -> None:
    r = reader(form={"quantity": 2})
    assert read_quantity(2, 3, r) == 2
    assert r.flags == [OrderFlag("form.quantity", "2 but 3 applicants")]
    assert r.rest("form") == {}


def test_quantity_out_of_range_falls_back_to_the_applicants() -> None:
    r = reader(form={"quantity": 11})
    assert read_quantity(11, 3, r) == 3
    assert r.flags == [OrderFlag("form.quantity", "not 1..10: 11; stored as 3")]
    assert r.rest("form") == {"quantity": 11}
