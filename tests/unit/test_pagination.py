"""Cursor pages (graph.pagination): page sizes, cursor round trips, bad cursors refused naming
`after`, PageInfo; and the argument checks they rely on (graph.arguments)."""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from uuid import UUID, uuid4

import pytest
from strawberry import UNSET

from app.orders.views import DEFAULT_SORT, Keyset, Sort, SortField
from graph.arguments import amount, given, parse_id, parse_ids
from graph.errors import CodedError
from graph.pagination import (
    MAX_CURSOR,
    after_of,
    cursor,
    decode_cursor,
    encode_cursor,
    encode_cursors,
    page_info,
    page_size,
)

T0 = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)


def invalid(exc: pytest.ExceptionInfo[CodedError]) -> tuple[str, str]:
    ext = exc.value.extensions or {}
    return ext["code"], ext["field"]


def test_page_size() -> None:
    assert page_size(None, 100) == 20
    assert page_size(0, 100) == 0
    assert page_size(100, 100) == 100
    assert page_size(None, 10) == 10
    for bad in (-1, 101):
        with pytest.raises(CodedError) as exc:
            page_size(bad, 100)
        assert invalid(exc) == ("INVALID_INPUT", "first")


MIXED = (Sort(SortField.AMOUNT, descending=True), Sort(SortField.ORDER_ID, descending=False))


@pytest.mark.parametrize(
    ("sort", "values"),
    [
        (DEFAULT_SORT, (T0,)),
        ((Sort(SortField.AMOUNT, descending=False),), (Decimal("49.00"),)),
        (MIXED, (Decimal("0.01"), "IL2611000001")),
    ],
)
def test_cursor_round_trip(sort: tuple[Sort, ...], values: tuple[object, ...]) -> None:
    keyset = Keyset(values, uuid4())
    cursor = encode_cursor(sort, keyset)
    assert "=" not in cursor
    assert base64.urlsafe_b64decode(cursor + "==")  # urlsafe base64, padding stripped
    assert decode_cursor(cursor, sort) == keyset


def _forge(payload: object) -> str:
    return base64.urlsafe_b64encode(json.dumps(payload).encode()).decode().rstrip("=")


ID = str(UUID(int=1))


AMOUNT_ASC = (Sort(SortField.AMOUNT, descending=False),)


@pytest.mark.parametrize(
    ("cursor", "sort"),
    [
        ("", DEFAULT_SORT),
        ("not base64 at all!", DEFAULT_SORT),
        ("x" * 2000, DEFAULT_SORT),
        (_forge({"a": 1}), DEFAULT_SORT),
        (_forge("abc"), DEFAULT_SORT),
        (_forge([["created_at:desc"], ["yesterday"], ID]), DEFAULT_SORT),
        (_forge([["created_at:desc"], ["2026-11-20T12:00:00"], ID]), DEFAULT_SORT),  # no offset
        (_forge([["created_at:desc"], [T0.isoformat()], "not-a-uuid"]), DEFAULT_SORT),
        (_forge([["created_at:desc"], [T0.isoformat(), "extra"], ID]), DEFAULT_SORT),
        (_forge([["created_at:desc"], [12], ID]), DEFAULT_SORT),
        (_forge([["amount:asc"], ["NaN"], ID]), AMOUNT_ASC),
        (_forge([["amount:asc"], ["ten"], ID]), AMOUNT_ASC),
        (_forge([["amount:asc"], ["1e400"], ID]), AMOUNT_ASC),
    ],
)
def test_malformed_cursors_are_invalid_input(cursor: str, sort: tuple[Sort, ...]) -> None:
    with pytest.raises(CodedError) as exc:
        decode_cursor(cursor, sort)
    assert invalid(exc) == ("INVALID_INPUT", "after")


def test_cursor_of_another_sort_is_refused() -> None:
    cursor = encode_cursor(DEFAULT_SORT, Keyset((T0,), uuid4()))
    asc = (Sort(SortField.CREATED_AT, descending=False),)
    with pytest.raises(CodedError, match="another orderBy") as exc:
        decode_cursor(cursor, asc)
    assert invalid(exc) == ("INVALID_INPUT", "after")


def test_page_size_when_omitted_or_null() -> None:
    assert page_size(UNSET, 100) == 20  # type: ignore[arg-type]
    assert page_size(None, 5) == 5  # never above what the server allows


def test_page_size_refusals_say_the_bound() -> None:
    with pytest.raises(CodedError, match="first must not be negative"):
        page_size(-1, 100)
    with pytest.raises(CodedError, match="first must be at most 50"):
        page_size(51, 50)


def test_the_cursors_of_a_page_are_each_rows_cursor() -> None:
    keysets = [Keyset((T0 - timedelta(minutes=i),), uuid4()) for i in range(3)]
    cursors = encode_cursors(DEFAULT_SORT, keysets)
    assert cursors == [encode_cursor(DEFAULT_SORT, k) for k in keysets]
    assert [decode_cursor(c, DEFAULT_SORT) for c in cursors] == keysets
    assert encode_cursors(DEFAULT_SORT, []) == []


BY_ORDER_ID = (Sort(SortField.ORDER_ID, descending=False),)


def test_a_cursor_beyond_the_length_limit_is_refused_unread() -> None:
    # Valid cursors either side of the limit: only the length decides.
    short = Keyset(("x" * 600,), uuid4())
    long = Keyset(("x" * 800,), uuid4())
    within, beyond = encode_cursors(BY_ORDER_ID, [short, long])
    assert len(within) <= MAX_CURSOR < len(beyond)
    assert decode_cursor(within, BY_ORDER_ID) == short
    with pytest.raises(CodedError, match="after is not a valid cursor") as exc:
        decode_cursor(beyond, BY_ORDER_ID)
    assert invalid(exc) == ("INVALID_INPUT", "after")


def test_newest_first_cursors_round_trip_in_utc() -> None:
    row = uuid4()
    local = T0.astimezone(timezone(timedelta(hours=2)))
    assert after_of(cursor(local, row)) == (T0, row)
    assert after_of(cursor(T0, row))[0].tzinfo is UTC  # type: ignore[index]


@pytest.mark.parametrize("after", [None, UNSET])
def test_no_after_is_the_first_page(after: str | None) -> None:
    assert after_of(after) is None


def test_an_order_list_cursor_of_another_sort_is_refused_by_newest_first_lists() -> None:
    by_amount = encode_cursor(AMOUNT_ASC, Keyset((Decimal("1.00"),), uuid4()))
    with pytest.raises(CodedError, match="another orderBy") as exc:
        after_of(by_amount)
    assert invalid(exc) == ("INVALID_INPUT", "after")
    with pytest.raises(CodedError, match="not a valid cursor"):
        after_of("garbage")


@dataclass
class Edge:
    cursor: str


def test_page_info_spans_the_first_and_last_edges() -> None:
    edges = [Edge("a"), Edge("b")]
    info = page_info(edges, has_next=True, after=UNSET)
    assert (info.start_cursor, info.end_cursor) == ("a", "b")
    assert (info.has_previous_page, info.has_next_page) == (False, True)
    one = page_info([Edge("c")], has_next=False, after="b")
    assert (one.start_cursor, one.end_cursor) == ("c", "c")
    assert (one.has_previous_page, one.has_next_page) == (True, False)
    empty = page_info([], has_next=False, after=None)
    assert (empty.start_cursor, empty.end_cursor) == (None, None)
    assert (empty.has_previous_page, empty.has_next_page) == (False, False)


@pytest.mark.parametrize(("after", "previous"), [(UNSET, False), (None, False), ("b", True)])
def test_a_page_after_a_cursor_has_a_previous_page(after: str | None, previous: bool) -> None:
    # Forward paging only: the edge `after` names comes before the page, even when it is empty.
    assert page_info([], has_next=False, after=after).has_previous_page is previous


def test_given_is_sent_and_not_null() -> None:
    assert not given(UNSET)
    assert not given(None)
    assert all(given(v) for v in (0, "", [], False))


def test_ids_are_refused_naming_the_argument() -> None:
    assert parse_ids([str(UUID(int=1))], "ids") == [UUID(int=1)]
    with pytest.raises(CodedError, match=r"filter.workflowId: 'nope' is not a valid id") as exc:
        parse_id("nope", "filter.workflowId")
    assert invalid(exc) == ("INVALID_INPUT", "filter.workflowId")


@pytest.mark.parametrize("value", [Decimal("NaN"), Decimal("1e10"), Decimal("-1e10"), 5, "5"])
def test_amounts_beyond_the_column_are_refused(value: object) -> None:
    with pytest.raises(CodedError, match="must be a finite decimal below") as exc:
        amount(value, "filter.amountGte")
    assert invalid(exc) == ("INVALID_INPUT", "filter.amountGte")


def test_amounts_within_the_column_pass() -> None:
    assert amount(Decimal("9999999999.99"), "x") == Decimal("9999999999.99")
