"""Cursor pages: page sizes, opaque cursors and PageInfo, for every connection of the API.

Every list is a keyset page: the order lists by their `orderBy`, the others newest first (created
at, then id). A cursor is urlsafe base64 of [sort names, sort values, id], so one made for another
sort is recognised and refused rather than read as a wrong position. Every refusal is an
INVALID_INPUT naming the argument (`first` or `after`), so bad input never reaches the database.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal
from typing import Annotated, Any, Protocol
from uuid import UUID

import orjson
import strawberry

from app.auth.ports import After
from app.orders.views import DEFAULT_SORT, Keyset, Sort, SortField
from graph.arguments import amount, given
from graph.errors import invalid_input
from graph.scalars import as_utc

DEFAULT_PAGE_SIZE = 20
MAX_CURSOR = 1024  # characters: far above any real cursor, and bounds the decoding work

# The page arguments of the lists, described once.
First = Annotated[
    int | None,
    strawberry.argument(
        description="Page size: 20 when omitted, at most the server's limit (100 by default)."
    ),
]
AfterCursor = Annotated[
    str | None,
    strawberry.argument(
        description="Start after this cursor (the previous page's endCursor); the list's"
        " beginning when omitted."
    ),
]


@strawberry.type(
    description="Where a page sits in its list (Relay's PageInfo). Lists page forward only:"
    " pass `endCursor` as the next call's `after` while `hasNextPage` is true."
)
class PageInfo:
    has_next_page: bool = strawberry.field(
        description="More edges follow this page's last one: ask again with `after: endCursor`."
    )
    end_cursor: str | None = strawberry.field(
        description="The cursor of this page's last edge; null when the page is empty."
    )
    has_previous_page: bool = strawberry.field(
        description="Edges come before this page: true when it was asked for with `after`"
        " (the edge that cursor names precedes it), false for the first page. There is no"
        " backward paging (`last`/`before`) to reach them: keep the earlier cursors."
    )
    start_cursor: str | None = strawberry.field(
        description="The cursor of this page's first edge; null when the page is empty."
    )


class Edge(Protocol):
    @property
    def cursor(self) -> str: ...


def page_info(edges: Sequence[Edge], has_next: bool, after: object) -> PageInfo:
    """The PageInfo of a forward page asked for with `after` (None or UNSET for the first
    page): its cursors are its first and last edges' (None for an empty page).

    `hasPreviousPage` is what the connection spec allows for forward paging, answered without
    a query: a page after a cursor has at least that cursor's edge before it. (Its row may have
    been deleted since; the spec lets a server answer this only as far as it is cheap.)
    """
    return PageInfo(
        has_next_page=has_next,
        end_cursor=edges[-1].cursor if edges else None,
        has_previous_page=given(after),
        start_cursor=edges[0].cursor if edges else None,
    )


def page_size(first: int | None, max_size: int) -> int:
    """The page size asked for: `first`, 20 when omitted, INVALID_INPUT outside 0..max_size."""
    if first is None or not given(first):
        return min(DEFAULT_PAGE_SIZE, max_size)
    if first < 0:
        raise invalid_input("first must not be negative", "first")
    if first > max_size:
        raise invalid_input(f"first must be at most {max_size}", "first")
    return first


def _sort_names(sort: Sequence[Sort]) -> list[str]:
    return [f"{s.field.value}:{'desc' if s.descending else 'asc'}" for s in sort]


def encode_cursor(sort: Sequence[Sort], keyset: Keyset) -> str:
    """Opaque to clients: urlsafe base64 of [sort names, sort values, id]."""
    return encode_cursors(sort, [keyset])[0]


def encode_cursors(sort: Sequence[Sort], keysets: Sequence[Keyset]) -> list[str]:
    """A page's cursors (the sort's names worked out once)."""
    names = _sort_names(sort)
    cursors = []
    for keyset in keysets:
        values = [v.isoformat() if isinstance(v, datetime) else v for v in keyset.values]
        raw = orjson.dumps([names, values, str(keyset.id)], default=str)
        cursors.append(base64.urlsafe_b64encode(raw).rstrip(b"=").decode())
    return cursors


def _value(field: SortField, raw: Any) -> Any:
    if not isinstance(raw, str):
        raise ValueError("cursor values are strings")
    if field is SortField.CREATED_AT:
        value = datetime.fromisoformat(raw)
        if value.tzinfo is None:
            raise ValueError("cursor times carry their offset")
        return as_utc(value)
    if field is SortField.AMOUNT:
        return amount(Decimal(raw), "after")
    return raw


def decode_cursor(cursor: str, sort: Sequence[Sort]) -> Keyset:
    """The keyset of a cursor made by `encode_cursor` for the same sort, else INVALID_INPUT."""
    try:
        if len(cursor) > MAX_CURSOR:
            raise ValueError("too long")
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        names, values, id_ = orjson.loads(raw)
        if not isinstance(names, list):
            raise ValueError("malformed")
    except (ValueError, TypeError, binascii.Error):
        raise invalid_input("after is not a valid cursor", "after") from None
    if names != _sort_names(sort):
        raise invalid_input("after was made for another orderBy", "after")
    try:
        if not isinstance(values, list) or not isinstance(id_, str) or len(values) != len(sort):
            raise ValueError("malformed")
        keyed = tuple(_value(s.field, v) for s, v in zip(sort, values, strict=True))
        return Keyset(keyed, UUID(id_))
    except (ValueError, ArithmeticError):
        raise invalid_input("after is not a valid cursor", "after") from None


def cursor(created_at: datetime, id: UUID) -> str:
    """The cursor of a row in a newest-first list: the order lists' format and default order."""
    return encode_cursor(DEFAULT_SORT, Keyset((created_at,), id))


def after_of(after: str | None) -> After | None:
    """The position a newest-first page starts after; None for the first page."""
    if not given(after) or after is None:
        return None
    keyset = decode_cursor(after, DEFAULT_SORT)
    return keyset.values[0], keyset.id
