"""Scalars of the API: Decimal as an exact string, DateTime as ISO 8601 in UTC, JSON.

The fields use Python's `decimal.Decimal` and `datetime.datetime`, which strawberry maps to its
built-in `Decimal` (serialised with `str`, so "120.50" keeps its cents) and `DateTime`
(`isoformat()`) scalars. `SCALAR_MAP` tightens both for `StrawberryConfig(scalar_map=...)`:
input decimals must be finite (no NaN/Infinity), and input datetimes without an offset are UTC.
"""

from __future__ import annotations

import datetime as dt
import decimal
from typing import Any

import strawberry
from strawberry.exceptions import StrawberryInputCoercionError
from strawberry.scalars import JSON
from strawberry.types.scalar import ScalarDefinition

Decimal = decimal.Decimal
DateTime = dt.datetime

__all__ = ["JSON", "SCALAR_MAP", "DateTime", "Decimal", "as_utc", "parse_decimal"]


def as_utc(value: dt.datetime) -> dt.datetime:
    """Aware UTC; a value without an offset is taken to be UTC (the API speaks UTC only)."""
    if value.tzinfo is None:
        return value.replace(tzinfo=dt.UTC)
    return value.astimezone(dt.UTC)


def parse_decimal(value: Any) -> decimal.Decimal:
    # JSON numbers arrive as int or float; str() of a float is its shortest exact repr.
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise StrawberryInputCoercionError(f"Decimal must be a string or a number, got {value!r}")
    try:
        number = decimal.Decimal(str(value).strip())
    except decimal.DecimalException:
        raise StrawberryInputCoercionError(f"{str(value)[:40]!r} is not a decimal") from None
    if not number.is_finite():
        raise StrawberryInputCoercionError("Decimal must be a finite number")
    return number


def _parse_datetime(value: Any) -> dt.datetime:
    if not isinstance(value, str):
        raise StrawberryInputCoercionError("DateTime must be an ISO 8601 string")
    try:
        return as_utc(dt.datetime.fromisoformat(value))
    except (ValueError, OverflowError):
        raise StrawberryInputCoercionError(f"{value[:40]!r} is not an ISO 8601 datetime") from None


DECIMAL: ScalarDefinition = strawberry.scalar(
    name="Decimal",
    description='An exact decimal number as a string, e.g. money: "120.50".',
    serialize=str,
    parse_value=parse_decimal,
)
DATETIME: ScalarDefinition = strawberry.scalar(
    name="DateTime",
    description="An ISO 8601 date and time; sent in UTC, received as UTC when no offset is given.",
    serialize=lambda value: as_utc(value).isoformat(),
    parse_value=_parse_datetime,
)

SCALAR_MAP: dict[object, ScalarDefinition] = {decimal.Decimal: DECIMAL, dt.datetime: DATETIME}
