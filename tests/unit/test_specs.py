"""Order specifications evaluated in memory: the meaning the SQL compiler must reproduce."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from types import SimpleNamespace
from typing import Any

import pytest

from domain.orders.specs import (
    And,
    Compare,
    Not,
    Or,
    Spec,
    all_of,
    processed,
    unprocessed,
)

T0 = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)


def order(**kw: Any) -> SimpleNamespace:
    base = {
        "branch": "il",
        "order_status": "active",
        "created_at": T0,
        "amount": Decimal("49.00"),
        "whatsapp_alerts_enabled": True,
        "processed_at": None,
        "client_email": None,
        "client_phone": "972507247157",
        "product_doc_type": "evisa",
        "product_country": "india",
    }
    return SimpleNamespace(**{**base, **kw})


IL = Compare("branch", "eq", "il")
SE = Compare("branch", "eq", "se")
EMAIL = Compare("client_email", "eq", "a@example.com")

CASES: list[tuple[str, Spec, SimpleNamespace, bool]] = [
    ("eq matches", IL, order(), True),
    ("eq differs", SE, order(), False),
    ("eq None is IS NULL", Compare("client_email", "eq", None), order(), True),
    ("eq None on a value", Compare("client_email", "eq", None), order(client_email="x"), False),
    ("eq on NULL is false", EMAIL, order(), False),
    ("NOT eq on NULL is true", Not(EMAIL), order(), True),
    ("NOT eq on equal value", Not(EMAIL), order(client_email="a@example.com"), False),
    ("in matches", Compare("branch", "in", ("se", "il")), order(), True),
    ("in misses", Compare("branch", "in", ("se", "co")), order(), False),
    ("in empty", Compare("branch", "in", ()), order(), False),
    ("in with None selects NULL", Compare("client_email", "in", (None, "b")), order(), True),
    ("NOT in on NULL", Not(Compare("client_email", "in", ("b",))), order(), True),
    ("gte at the bound", Compare("created_at", "gte", T0), order(), True),
    ("lt at the bound", Compare("created_at", "lt", T0), order(), False),
    ("gte amount", Compare("amount", "gte", Decimal("49.01")), order(), False),
    ("lt amount", Compare("amount", "lt", Decimal("49.01")), order(), True),
    ("gte on NULL is false", Compare("processed_at", "gte", T0), order(), False),
    ("lt on NULL is false", Compare("processed_at", "lt", T0), order(), False),
    ("NOT gte on NULL is true", Not(Compare("processed_at", "gte", T0)), order(), True),
    ("boolean eq", Compare("whatsapp_alerts_enabled", "eq", False), order(), False),
    ("unprocessed", unprocessed(), order(), True),
    ("processed", processed(), order(processed_at=T0), True),
    ("processed on unprocessed", processed(), order(), False),
    ("and all", And((IL, unprocessed())), order(), True),
    ("and one false", And((IL, SE)), order(), False),
    ("empty and is true", And(()), order(), True),
    ("or any", Or((SE, IL)), order(), True),
    ("or none", Or((SE, EMAIL)), order(), False),
    ("empty or is false", Or(()), order(), False),
    ("not of or", Not(Or((SE, EMAIL))), order(), True),
    ("double not", Not(Not(IL)), order(), True),
    ("operators", (IL & ~SE) | EMAIL, order(), True),
]


@pytest.mark.parametrize(
    ("spec", "candidate", "expected"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_is_satisfied_by(spec: Spec, candidate: SimpleNamespace, expected: bool) -> None:
    assert spec.is_satisfied_by(candidate) is expected


def test_unknown_field_and_operator_are_refused() -> None:
    with pytest.raises(ValueError, match="unknown order field 'applicants_data'"):
        Compare("applicants_data", "eq", [])
    with pytest.raises(ValueError, match="unknown operator 'like'"):
        Compare("branch", "like", "i%")


def test_all_of() -> None:
    assert all_of([]) is None
    assert all_of([IL]) == IL
    assert all_of([IL, SE]) == And((IL, SE))


def test_specs_are_values() -> None:
    # Equal trees are equal (the unprocessed-list shortcut and cache keys rely on it).
    assert And((IL, unprocessed())) == And((Compare("branch", "eq", "il"), unprocessed()))
    assert repr(Not(IL)) == "Not(part=Compare(field='branch', op='eq', value='il'))"
