"""Rendering one value for a CRM custom field by its type: the vendor takes every value as text."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, date, datetime, time
from decimal import Decimal, InvalidOperation

from domain.contacts.fields import FieldType
from domain.errors import DomainError


class FieldValueError(DomainError):
    """A value that does not fit its field's type (a defect of the field map, named here)."""


def render(name: str, type: FieldType, value: object) -> str:
    """The vendor string of `value`: numbers plain, dates and datetimes as unix seconds,
    booleans 1/0, multi-selects comma-separated. Raises `FieldValueError` naming the field."""
    try:
        return _RENDERERS[type](value)
    except (TypeError, ValueError, InvalidOperation) as exc:
        raise FieldValueError(
            f"custom field {name} ({type.name.lower()}) cannot take {value!r}: {exc}", field=name
        ) from None


def _text(value: object) -> str:
    if isinstance(value, bool | dict | list | tuple | set):
        raise TypeError("not text")
    return str(value).strip()


def _multi(value: object) -> str:
    items = [value] if isinstance(value, str) else value
    if not isinstance(items, Iterable):
        raise TypeError("not a list of options")
    return ",".join(_text(item) for item in items)


def _number(value: object) -> str:
    if isinstance(value, bool):
        raise TypeError("a boolean is not a number")  # bool is an int: refuse it explicitly
    if isinstance(value, int):
        return str(value)
    if not isinstance(value, Decimal | float | str):
        raise TypeError("not a number")
    number = Decimal(str(value).strip())
    if not number.is_finite():
        raise ValueError("not a finite number")
    # 165.00 -> "165", 165.50 -> "165.5": no exponent, no trailing zeros.
    text = format(number.normalize(), "f")
    return "0" if text in ("-0", "") else text


def _unix(value: object, *, whole_day: bool) -> str:
    if isinstance(value, datetime):
        moment = value if value.tzinfo else value.replace(tzinfo=UTC)
        if whole_day:
            moment = datetime.combine(moment.astimezone(UTC).date(), time(), UTC)
    elif isinstance(value, date):
        moment = datetime.combine(value, time(), UTC)
    else:
        raise TypeError("not a date")
    return str(int(moment.timestamp()))


def _boolean(value: object) -> str:
    if not isinstance(value, bool):
        raise TypeError("not a boolean")
    return "1" if value else "0"


_RENDERERS = {
    FieldType.TEXT: _text,
    FieldType.LONG_TEXT: _text,
    FieldType.SELECT: _text,
    FieldType.MULTI_SELECT: _multi,
    FieldType.NUMBER: _number,
    FieldType.DATE: lambda v: _unix(v, whole_day=True),
    FieldType.DATETIME: lambda v: _unix(v, whole_day=False),
    FieldType.BOOLEAN: _boolean,
}
