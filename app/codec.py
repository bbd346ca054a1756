"""JSON codec for read models: dataclasses to bytes and back, for caches and cursors."""

from __future__ import annotations

import dataclasses
import types
import typing
from datetime import date, datetime
from decimal import Decimal
from enum import Enum
from functools import cache
from typing import Any, TypeVar, get_args, get_origin, get_type_hints
from uuid import UUID

import orjson

T = TypeVar("T")


def _default(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, UUID):  # asyncpg's own UUID subclass, which orjson does not know
        return str(value)
    if isinstance(value, tuple | frozenset | set):
        return list(value)
    raise TypeError(f"cannot encode {type(value).__name__}")


def dumps(value: Any) -> bytes:
    """Encode read models (dataclasses, lists of them, dicts, scalars) as JSON bytes."""
    return orjson.dumps(value, default=_default, option=orjson.OPT_PASSTHROUGH_SUBCLASS)


def loads(data: bytes | str) -> Any:
    return orjson.loads(data)


Convert = typing.Callable[[Any], Any]


def decode(tp: Any, value: Any) -> Any:
    """Rebuild a value of type `tp` from its JSON form (the inverse of `dumps`)."""
    convert = converter(tp)
    return value if convert is None or value is None else convert(value)


@cache
def converter(tp: Any) -> Convert | None:
    """The JSON → `tp` function, built once per type (None: JSON's value is already right).

    Cached reads decode on every hit, so the type analysis happens here once, not per value.
    """
    origin = get_origin(tp)
    if origin is typing.Union or origin is types.UnionType:
        args = [a for a in get_args(tp) if a is not type(None)]
        inner = converter(args[0]) if len(args) == 1 else None
        if inner is None:
            return None
        return lambda v: None if v is None else inner(v)
    if origin in (list, tuple):
        item_types = get_args(tp)
        item = converter(item_types[0]) if item_types else None
        if origin is tuple:
            return (lambda v: tuple(item(x) for x in v)) if item else tuple
        return (lambda v: [item(x) for x in v]) if item else None
    if origin is dict or tp is Any:
        return None
    if dataclasses.is_dataclass(tp) and isinstance(tp, type):
        return _dataclass_converter(tp)
    if isinstance(tp, type):
        if issubclass(tp, datetime):
            return datetime.fromisoformat
        if issubclass(tp, date):
            return date.fromisoformat
        if issubclass(tp, Enum | Decimal | UUID):
            return tp
    return None


def _dataclass_converter(tp: type) -> Convert:
    fields = [(name, converter(hint)) for name, hint in _hints(tp).items()]

    # A missing field is an entry written by an older release: KeyError, which the cache
    # layer treats as a miss, rather than None in a non-optional field.
    def build(value: Any) -> Any:
        return tp(**{n: value[n] if c is None else c(value[n]) for n, c in fields})

    return build


@cache
def _hints(tp: type) -> dict[str, Any]:
    fields = {f.name for f in dataclasses.fields(tp) if f.init}
    return {k: v for k, v in get_type_hints(tp).items() if k in fields}


def decoder(tp: type[T]) -> typing.Callable[[bytes], T]:
    """A bytes → `tp` function, for `@cached(decode=...)`."""

    def _decode(data: bytes) -> T:
        return typing.cast(T, decode(tp, loads(data)))

    return _decode
