"""GraphQL order inputs: OrderFilter → Spec, orderBy → Sort, and the strict scalars."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal

import pytest
from strawberry.exceptions import StrawberryInputCoercionError

from app.orders.views import DEFAULT_SORT, Sort, SortField
from domain.orders.specs import And, Compare, Not, Or, processed, unprocessed
from graph.errors import CodedError
from graph.order_filters import (
    MAX_DEPTH,
    MAX_LEAVES,
    NOTHING,
    Direction,
    OrderFilter,
    OrderOrder,
    OrderOrderField,
    to_sort,
    to_spec,
)
from graph.scalars import SCALAR_MAP, as_utc, parse_decimal
from graph.types import OrderStatus

T0 = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)


def invalid(exc: pytest.ExceptionInfo[CodedError]) -> tuple[str, str]:
    ext = exc.value.extensions or {}
    return ext["code"], ext["field"]


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        (OrderFilter(branch=" IL "), Compare("branch", "eq", "il")),
        (OrderFilter(branch_in=["il", "SE"]), Compare("branch", "in", ("il", "se"))),
        (OrderFilter(status=OrderStatus.ISSUE), Compare("order_status", "eq", "issue")),
        (OrderFilter(created_from=T0), Compare("created_at", "gte", T0)),
        (OrderFilter(created_to=T0), Compare("created_at", "lt", T0)),
        (OrderFilter(amount_gte=Decimal("10.5")), Compare("amount", "gte", Decimal("10.5"))),
        (
            OrderFilter(whatsapp_alerts_enabled=False),
            Compare("whatsapp_alerts_enabled", "eq", False),
        ),
        (OrderFilter(unprocessed=True), unprocessed()),
        (OrderFilter(unprocessed=False), processed()),
        (OrderFilter(client_email="a@b.c"), Compare("client_email", "eq", "a@b.c")),
        (OrderFilter(client_phone="+972 50-724"), Compare("client_phone", "eq", "97250724")),
        (OrderFilter(visa_type="evisa"), Compare("product_doc_type", "eq", "evisa")),
        (OrderFilter(product_country="India"), Compare("product_country", "eq", "india")),
    ],
)
def test_each_leaf(given: OrderFilter, expected: object) -> None:
    assert to_spec(given) == expected


def test_times_without_offset_are_utc_and_others_converted() -> None:
    naive = OrderFilter(created_from=datetime(2026, 11, 20, 12, 0))
    assert to_spec(naive) == Compare("created_at", "gte", T0)
    plus2 = OrderFilter(
        created_to=datetime(2026, 11, 20, 14, 0, tzinfo=timezone(timedelta(hours=2)))
    )
    spec = to_spec(plus2)
    assert isinstance(spec, Compare)
    assert spec.value == T0
    assert spec.value.tzinfo is UTC


def test_composition() -> None:
    f = OrderFilter(
        branch="il",
        or_=[OrderFilter(status=OrderStatus.ACTIVE), OrderFilter(unprocessed=True)],
        not_=OrderFilter(client_email="x@y.z"),
        and_=[OrderFilter(amount_gte=Decimal(5)), OrderFilter()],
    )
    assert to_spec(f) == And(
        (
            Compare("branch", "eq", "il"),
            Compare("amount", "gte", Decimal(5)),
            Or((Compare("order_status", "eq", "active"), unprocessed())),
            Not(Compare("client_email", "eq", "x@y.z")),
        )
    )


def test_empty_filters() -> None:
    assert to_spec(None) is None
    assert to_spec(OrderFilter()) is None
    # OR with a member matching everything matches everything; NOT of everything is nothing.
    assert to_spec(OrderFilter(or_=[OrderFilter(), OrderFilter(branch="il")])) is None
    assert to_spec(OrderFilter(not_=OrderFilter())) == NOTHING
    assert NOTHING.is_satisfied_by(object()) is False


@pytest.mark.parametrize(
    ("given", "field"),
    [
        (OrderFilter(and_=[]), "filter.and"),
        (OrderFilter(or_=[OrderFilter(branch="il"), OrderFilter(or_=[])]), "filter.or[1].or"),
        (OrderFilter(branch_in=[]), "filter.branchIn"),
        (OrderFilter(branch_in=["il"] * 101), "filter.branchIn"),
        (OrderFilter(branch="  "), "filter.branch"),
        (OrderFilter(client_phone="n/a"), "filter.clientPhone"),
        (OrderFilter(amount_gte=Decimal("NaN")), "filter.amountGte"),
        (OrderFilter(not_=OrderFilter(amount_gte=Decimal("Infinity"))), "filter.not.amountGte"),
        # Beyond numeric(12, 2): quantizing to cents raised InvalidOperation (a 500) before.
        (OrderFilter(amount_gte=Decimal("1e400")), "filter.amountGte"),
        (OrderFilter(amount_gte=Decimal("-1e10")), "filter.amountGte"),
        # PostgreSQL refuses NUL in text: a 500 before.
        (OrderFilter(branch="\x00"), "filter.branch"),
        (OrderFilter(or_=[OrderFilter(client_email="a\x00@b.c")]), "filter.or[0].clientEmail"),
        (OrderFilter(branch_in=["il", "x\x00"]), "filter.branchIn"),
    ],
)
def test_invalid_filters_name_the_field(given: OrderFilter, field: str) -> None:
    with pytest.raises(CodedError) as exc:
        to_spec(given)
    assert invalid(exc) == ("INVALID_INPUT", field)


def test_nesting_depth_is_capped() -> None:
    f = OrderFilter(branch="il")
    for _ in range(MAX_DEPTH - 1):
        f = OrderFilter(not_=f)
    assert to_spec(f) is not None  # exactly MAX_DEPTH levels are fine
    with pytest.raises(CodedError) as exc:
        to_spec(OrderFilter(and_=[f]))
    code, field = invalid(exc)
    assert code == "INVALID_INPUT"
    assert field == "filter.and[0]" + ".not" * (MAX_DEPTH - 1)


def test_leaf_count_is_capped() -> None:
    ok = OrderFilter(or_=[OrderFilter(branch=f"b{i}") for i in range(MAX_LEAVES)])
    assert isinstance(to_spec(ok), Or)
    with pytest.raises(CodedError) as exc:
        to_spec(OrderFilter(or_=[*ok.or_, OrderFilter(branch="one-more")]))
    assert invalid(exc) == ("INVALID_INPUT", "filter")


def test_sort() -> None:
    assert to_sort(None) == DEFAULT_SORT
    assert to_sort([]) == DEFAULT_SORT
    assert to_sort(
        [
            OrderOrder(field=OrderOrderField.AMOUNT, direction=Direction.ASC),
            OrderOrder(field=OrderOrderField.CREATED_AT, direction=Direction.DESC),
        ]
    ) == (Sort(SortField.AMOUNT, descending=False), Sort(SortField.CREATED_AT, descending=True))
    twice = [OrderOrder(field=OrderOrderField.AMOUNT, direction=d) for d in Direction]
    with pytest.raises(CodedError) as exc:
        to_sort(twice)
    assert invalid(exc) == ("INVALID_INPUT", "orderBy")


def test_strict_scalars_for_scalar_map() -> None:
    assert parse_decimal("120.50") == Decimal("120.50")
    assert parse_decimal(7) == Decimal(7)
    for bad in ("NaN", "-Infinity", "ten", True, None):
        with pytest.raises(StrawberryInputCoercionError):
            parse_decimal(bad)
    assert SCALAR_MAP[Decimal].serialize(Decimal("0.10")) == "0.10"
    parse = SCALAR_MAP[datetime].parse_value
    assert parse("2026-11-20T12:00:00") == T0
    assert parse("2026-11-20T14:00:00+02:00") == T0
    assert as_utc(datetime(2026, 11, 20, 12, 0)).tzinfo is UTC
