"""Table tests for the pure order normalisation rules in domain.orders.normalise."""

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from domain.orders.normalise import (
    clean_text,
    currency_for,
    describe,
    is_urgent,
    normalise_amount,
    normalise_branch,
    normalise_phone,
    parse_entry_date,
    positive_wait,
    processing_days,
    validity_days,
)


@pytest.mark.parametrize(
    ("raw", "order_id", "expected"),
    [
        ("il", "IL251101GB07", "il"),
        ("SE", "SE251102IN03", "se"),
        (" Kz ", "IL1", "kz"),
        ("co", "XX1", "co"),
        ("ru", "", "ru"),
        (None, "SE251102IN03", "se"),
        ("", "ko251102", "il"),
        ("xx", "CO251102", "co"),
        ("xx", "RU1", "ru"),
        ("xx", "XX1", "il"),
        (None, "", "il"),
        (7, "kz9", "kz"),
        (["se"], "X", "il"),
    ],
)
def test_normalise_branch(raw: object, order_id: str, expected: str) -> None:
    assert normalise_branch(raw, order_id) == expected


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ({"code": "+972", "number": "0507247157"}, ("972507247157", True)),
        ({"code": "+972", "number": "507247157"}, ("972507247157", True)),
        ({"code": "972", "number": "972507247157"}, ("972507247157", True)),
        ({"code": "+972", "number": "+972 50-724-7157"}, ("972507247157", True)),
        ({"code": 972, "number": 507247157}, ("972507247157", True)),
        ({"code": "+46", "number": "0701234567"}, ("46701234567", True)),
        # One leading zero goes by rule; phonenumbers' E.164 form drops a second trunk zero.
        ({"code": "+972", "number": "00507247157"}, ("972507247157", True)),
        ({"code": "+972", "number": "000507247157"}, ("97200507247157", False)),
        # A local number that merely starts with the code's digits still gets the code (Lund 046).
        ({"code": "+46", "number": "046123456"}, ("4646123456", True)),
        # Not in phonenumbers' IL ranges, but shaped like an Israeli mobile: accepted.
        ({"code": "+972", "number": "0541112233"}, ("972541112233", True)),
        ({"code": "+972", "number": "123"}, ("972123", False)),
        ({"number": "0507247157"}, ("0507247157", False)),
        ({"code": "+972"}, (None, False)),
        ({"code": "+972", "number": ""}, (None, False)),
        ({}, (None, False)),
        ("+972 50-724-7157", ("972507247157", True)),
        ("972507247157", ("972507247157", True)),
        ("+972 050-724-7157", ("972507247157", True)),
        ("+39 06 1234 5678", ("390612345678", True)),
        ("0507247157", ("0507247157", False)),
        (972507247157, ("972507247157", True)),
        ("phone", (None, False)),
        ("", (None, False)),
        (None, (None, False)),
        (True, (None, False)),
        (97250.5, (None, False)),
        (-972507247157, (None, False)),
        (["972507247157"], (None, False)),
        ("1" * 21, (None, False)),
        (10**40, (None, False)),
    ],
)
def test_normalise_phone(raw: object, expected: tuple[str | None, bool]) -> None:
    assert normalise_phone(raw) == expected


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("2_weeks", 14),
        ("15_days", 14),
        ("month", 30),
        ("1_month", 30),
        ("2_months", 60),
        ("3_months", 90),
        ("6_months", 180),
        ("year", 365),
        ("1_year", 365),
        ("2_years", 730),
        ("3_years", 1095),
        ("5_years", 1825),
        ("10_years", 3650),
        ("2_Years", 730),
        ("YEAR", 365),
        (" 6-months ", 180),
        ("10years", 3650),
        ("7_days", None),
        ("4_years", None),
        ("", None),
        (None, None),
        (365, None),
        (["year"], None),
    ],
)
def test_validity_days(raw: object, expected: int | None) -> None:
    assert validity_days(raw) == expected


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        *[(speed, True) for speed in ("urgent", "express", "rush", "priority", "next_day")],
        ("few_hours", True),
        ("URGENT", True),
        (" Next-Day ", True),
        ("few hours", True),
        *[(speed, False) for speed in ("none", "standard", "normal", "1_2_days", "3_days")],
        ("5_15_days", False),
        ("", False),
        (None, False),
        (True, False),
        (1, False),
    ],
)
def test_is_urgent(raw: object, expected: bool) -> None:
    assert is_urgent(raw) is expected


@pytest.mark.parametrize(
    ("urgent", "wait", "country", "expected"),
    [
        (True, 10, "morocco", 1),
        (False, 10, "morocco", 10),
        (False, 3, "uk", 3),
        (False, 21.0, "uk", 21),
        (False, 0, "morocco", 5),
        (False, -2, "vietnam", 7),
        (False, None, "Vietnam", 7),
        (False, "4", "uk", 3),
        (False, True, "uk", 3),
        (False, 2.5, "uk", 3),
        (False, float("nan"), "uk", 3),
        (False, float("inf"), "uk", 3),
        (False, 10**30, "uk", 3),
        (False, 366, "uk", 3),
        (False, None, "india", 3),
        (False, None, None, 3),
    ],
)
def test_processing_days(urgent: bool, wait: object, country: object, expected: int) -> None:
    assert processing_days(urgent, wait, country) == expected


@pytest.mark.parametrize(
    ("wait", "expected"), [(1, 1), (365, 365), (7.0, 7), (0, None), (366, None), ("3", None)]
)
def test_positive_wait(wait: object, expected: int | None) -> None:
    assert positive_wait(wait) == expected


@pytest.mark.parametrize(
    ("currency", "country", "expected"),
    [
        ("ILS", "uk", "ILS"),
        ("sek", "india", "SEK"),
        (" usd ", None, "USD"),
        *[
            (None, country, code)
            for country, code in [
                ("uk", "GBP"),
                ("usa", "USD"),
                ("canada", "CAD"),
                ("india", "INR"),
                ("israel", "ILS"),
                ("vietnam", "VND"),
                ("korea", "KRW"),
                ("morocco", "MAD"),
                ("saudi_arabia", "SAR"),
                ("schengen", "EUR"),
            ]
        ],
        ("", "UK", "GBP"),
        (None, "new_zealand", "USD"),
        (None, None, "USD"),
        ("dollars", "india", "INR"),
        (840, "canada", "CAD"),
    ],
)
def test_currency_for(currency: object, country: object, expected: str) -> None:
    assert currency_for(currency, country) == expected


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("2025-12-18", datetime(2025, 12, 18, tzinfo=UTC)),
        ("2025-12-18T10:00:00+02:00", datetime(2025, 12, 18, 8, tzinfo=UTC)),
        ("2025-12-18T10:00:00Z", datetime(2025, 12, 18, 10, tzinfo=UTC)),
        ("2025-12-18 10:00", datetime(2025, 12, 18, 10, tzinfo=UTC)),
        ("18/12/2025", None),
        ("2025-13-45", None),
        ("0001-01-01T00:00:00+05:00", None),
        ("", None),
        (None, None),
        (1766016000, None),
    ],
)
def test_parse_entry_date(raw: object, expected: datetime | None) -> None:
    assert parse_entry_date(raw) == expected


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (165, Decimal("165")),
        ("165.50", Decimal("165.50")),
        (" 12 ", Decimal("12")),
        (19.99, Decimal("19.99")),
        (0, Decimal("0")),
        ("-0", Decimal("0")),
        ("1e3", Decimal("1000")),
        (None, None),
        ("  ", None),
    ],
)
def test_normalise_amount(raw: object, expected: Decimal | None) -> None:
    assert normalise_amount(raw) == expected


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("abc", "not a number"),
        ("1,5", "not a number"),
        ("NaN", "not a number"),
        ("sNaN", "not a number"),
        (float("nan"), "not a number"),
        (True, "not a number"),
        ([], "not a number"),
        ({"value": 1}, "not a number"),
        ("9" * 65, "not a number"),
        (-1, "negative"),
        ("-0.01", "negative"),
        (-(10**40), "negative"),
        ("Infinity", "too large"),
        (float("inf"), "too large"),
        (10**10, "too large"),
        ("1e999999999", "too large"),
    ],
)
def test_normalise_amount_rejects(raw: object, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        normalise_amount(raw)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [(" a ", "a"), ("", None), ("  ", None), (12, "12"), (True, None), (1.5, None), (None, None)],
)
def test_clean_text(raw: object, expected: str | None) -> None:
    assert clean_text(raw) == expected


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("x", "'x'"),
        ("a" * 50, repr("a" * 40 + "...")),
        (None, "null"),
        (True, "true"),
        (3, "3"),
        ([1], "a list"),
        ({}, "an object"),
    ],
)
def test_describe(raw: object, expected: str) -> None:
    assert describe(raw) == expected
