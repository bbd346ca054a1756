"""Arguments as sent: whether one was given, uuids from `ID`s and bounded amounts, each refusal
an INVALID_INPUT naming the argument at fault."""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal
from enum import Enum
from typing import Any
from uuid import UUID

from strawberry import UNSET

from domain.orders.normalise import MAX_AMOUNT
from graph.errors import invalid_input


def given(value: Any) -> bool:
    """An argument or input field that was sent as a value (not omitted, not null)."""
    return value is not None and value is not UNSET


def value_of(member: Enum) -> str:
    """The value of a GraphQL enum's member. Members made with `strawberry.enum_value(...)` (to
    carry a description) are typed as that call's result, though strawberry stores the plain
    string in their place."""
    value = member.value
    assert isinstance(value, str), member
    return value


def parse_id(raw: str, field: str) -> UUID:
    try:
        return UUID(str(raw))
    except ValueError:
        raise invalid_input(f"{field}: {str(raw)[:64]!r} is not a valid id", field) from None


def parse_ids(raw: Iterable[str], field: str) -> list[UUID]:
    return [parse_id(r, field) for r in raw]


def amount(value: Any, path: str) -> Decimal:
    # Bounded like the column (numeric(12, 2)): a larger value cannot be bound as cents on SQLite
    # or quantized to cents at all (1e400), and would fail in the database instead of here.
    if not isinstance(value, Decimal) or not value.is_finite() or abs(value) >= MAX_AMOUNT:
        raise invalid_input(f"{path} must be a finite decimal below {MAX_AMOUNT:,}", path)
    return value
