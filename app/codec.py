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


def decode(tp: Any, value: Any) -> Any:
    """Rebuild a value of type `tp` from its JSON form (the inverse of `dumps`)."""
    if value is None:
        return None
    origin = get_origin(tp)
    if origin is typing.Union or origin is types.UnionType:
        args = [a for a in get_args(tp) if a is not type(None)]
        return decode(args[0], value) if len(args) == 1 else value
    if origin in (list, tuple):
        item_types = get_args(tp)
        items = [decode(item_types[0], v) for v in value] if item_types else list(value)
        return items if origin is list else tuple(items)
    if origin is dict or tp is Any:
        return value
    if dataclasses.is_dataclass(tp) and isinstance(tp, type):
        hints = _hints(tp)
        # A missing field is an entry written by an older release: refuse it (the cache layer
        # treats a decode error as a miss) rather than filling None into a non-optional field.
        return tp(**{name: decode(hints[name], value[name]) for name in hints})
    if isinstance(tp, type):
        if issubclass(tp, datetime):
            return datetime.fromisoformat(value)
        if issubclass(tp, date):
            return date.fromisoformat(value)
        if issubclass(tp, Enum | Decimal | UUID):
            return tp(value)
    return value


@cache
def _hints(tp: type) -> dict[str, Any]:
    fields = {f.name for f in dataclasses.fields(tp) if f.init}
    return {k: v for k, v in get_type_hints(tp).items() if k in fields}


def decoder(tp: type[T]) -> typing.Callable[[bytes], T]:
    """A bytes → `tp` function, for `@cached(decode=...)`."""

    def _decode(data: bytes) -> T:
        return typing.cast(T, decode(tp, loads(data)))

    return _decode
