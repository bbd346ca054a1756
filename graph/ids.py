"""ID parsing: uuids from GraphQL `ID` arguments, with an INVALID_INPUT naming the argument."""

from __future__ import annotations

from collections.abc import Iterable
from uuid import UUID

from graph.errors import invalid_input


def parse_id(raw: str, field: str) -> UUID:
    try:
        return UUID(str(raw))
    except ValueError:
        raise invalid_input(f"{field}: {str(raw)[:64]!r} is not a valid id", field) from None


def parse_ids(raw: Iterable[str], field: str) -> list[UUID]:
    return [parse_id(r, field) for r in raw]
