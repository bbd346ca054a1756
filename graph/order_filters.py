"""Order list inputs: OrderFilter → Spec and OrderOrder → Sort (pages: graph.pagination).

Every check here answers INVALID_INPUT naming the argument at fault, so bad input never
reaches the database.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from datetime import datetime
from decimal import Decimal
from enum import Enum
from typing import Any

import strawberry
from strawberry import UNSET

from app.orders.views import DEFAULT_SORT, Sort, SortField
from domain.orders.specs import And, Compare, Not, Or, Spec, processed
from domain.orders.specs import unprocessed as unprocessed_spec
from graph.arguments import amount, given, value_of
from graph.errors import invalid_input
from graph.scalars import as_utc
from graph.types import OrderStatus

MAX_DEPTH = 5  # nesting levels of and/or/not, the top filter being level 1
MAX_LEAVES = 50  # conditions in one filter, all levels together
MAX_LIST = 100  # values in one `...In` list


@strawberry.input(description="Conditions on orders; all given conditions must hold (AND).")
class OrderFilter:
    and_: list[OrderFilter] | None = strawberry.field(
        name="and", default=UNSET, description="Every one of these filters holds too."
    )
    or_: list[OrderFilter] | None = strawberry.field(
        name="or", default=UNSET, description="At least one of these filters holds too."
    )
    not_: OrderFilter | None = strawberry.field(
        name="not", default=UNSET, description="This filter does not hold (`not: {}`: no order)."
    )
    branch: str | None = strawberry.field(
        default=UNSET, description="This branch (`il`; compared lowercase)."
    )
    branch_in: list[str] | None = strawberry.field(
        default=UNSET, description="One of these branches (1 to 100)."
    )
    status: OrderStatus | None = strawberry.field(default=UNSET, description="This status.")
    created_from: datetime | None = strawberry.field(
        default=UNSET, description="Created at or after this instant (inclusive)."
    )
    created_to: datetime | None = strawberry.field(
        default=UNSET, description="Created before this instant (exclusive)."
    )
    amount_gte: Decimal | None = strawberry.field(
        default=UNSET, description="An amount at least this (in the order's own currency)."
    )
    whatsapp_alerts_enabled: bool | None = strawberry.field(
        default=UNSET, description="The customer did (true) or did not (false) agree to WhatsApp."
    )
    unprocessed: bool | None = strawberry.field(
        default=UNSET, description="true: not yet processed; false: processed."
    )
    client_email: str | None = strawberry.field(
        default=UNSET, description="Exactly this customer email (case matters)."
    )
    client_phone: str | None = strawberry.field(
        default=UNSET, description="Compared as digits only, like the stored phone."
    )
    visa_type: str | None = strawberry.field(default=UNSET, description="The product's doc type.")
    product_country: str | None = strawberry.field(
        default=UNSET, description="This destination (`india`; compared lowercase)."
    )


@strawberry.enum(description="What orders can be sorted by.")
class OrderOrderField(Enum):
    CREATED_AT = strawberry.enum_value("created_at", description="When the order was stored.")
    AMOUNT = strawberry.enum_value("amount", description="The amount, whatever its currency.")
    ORDER_ID = strawberry.enum_value("order_id", description="The storefront's order id, as text.")


@strawberry.enum(description="A sort direction.")
class Direction(Enum):
    ASC = strawberry.enum_value("asc", description="Smallest, oldest or A first.")
    DESC = strawberry.enum_value("desc", description="Largest, newest or Z first.")


@strawberry.input(description="One sort key; ties are always broken by id.")
class OrderOrder:
    field: OrderOrderField = strawberry.field(description="What to sort by (once per orderBy).")
    direction: Direction = strawberry.field(description="Which way.")


def _text(value: str, path: str) -> str:
    text = value.strip()
    if not text:
        raise invalid_input(f"{path} must not be blank", path)
    # PostgreSQL refuses NUL in text, so the query would fail there; no stored value holds one
    # (intake replaces it), so refusing it changes no answer. Lone surrogates never get this far:
    # the JSON and GraphQL parsers refuse them.
    if "\x00" in text:
        raise invalid_input(f"{path} must not contain NUL characters", path)
    return text


def _phone(value: str, path: str) -> str:
    digits = re.sub(r"\D", "", value)
    if not digits:
        raise invalid_input(f"{path} has no digits", path)
    return digits


def _branches(values: list[str], path: str) -> tuple[str, ...]:
    if not values or len(values) > MAX_LIST:
        raise invalid_input(f"{path} needs 1 to {MAX_LIST} values", path)
    return tuple(_text(v, path).lower() for v in values)


# Leaf arguments in SDL order: (attribute, GraphQL name, build(value, path) → Spec).
_LEAVES: list[tuple[str, str, Callable[[Any, str], Spec]]] = [
    ("branch", "branch", lambda v, p: Compare("branch", "eq", _text(v, p).lower())),
    ("branch_in", "branchIn", lambda v, p: Compare("branch", "in", _branches(v, p))),
    ("status", "status", lambda v, p: Compare("order_status", "eq", v.value)),
    ("created_from", "createdFrom", lambda v, p: Compare("created_at", "gte", as_utc(v))),
    ("created_to", "createdTo", lambda v, p: Compare("created_at", "lt", as_utc(v))),
    ("amount_gte", "amountGte", lambda v, p: Compare("amount", "gte", amount(v, p))),
    (
        "whatsapp_alerts_enabled",
        "whatsappAlertsEnabled",
        lambda v, p: Compare("whatsapp_alerts_enabled", "eq", bool(v)),
    ),
    ("unprocessed", "unprocessed", lambda v, p: unprocessed_spec() if v else processed()),
    ("client_email", "clientEmail", lambda v, p: Compare("client_email", "eq", _text(v, p))),
    ("client_phone", "clientPhone", lambda v, p: Compare("client_phone", "eq", _phone(v, p))),
    ("visa_type", "visaType", lambda v, p: Compare("product_doc_type", "eq", _text(v, p))),
    (
        "product_country",
        "productCountry",
        lambda v, p: Compare("product_country", "eq", _text(v, p).lower()),
    ),
]

# A condition no order satisfies: `not: {}` (the empty filter matches every order).
NOTHING: Spec = Or(())


def to_spec(value: OrderFilter | None, path: str = "filter") -> Spec | None:
    """The Spec of a filter; None when it matches every order."""
    if value is None or not given(value):
        return None
    return _spec(value, path, depth=1, leaves=[0])


def _spec(f: OrderFilter, path: str, *, depth: int, leaves: list[int]) -> Spec | None:
    if depth > MAX_DEPTH:
        raise invalid_input(f"{path}: filters nest at most {MAX_DEPTH} levels deep", path)
    parts: list[Spec] = []
    for attr, name, build in _LEAVES:
        raw = getattr(f, attr)
        if given(raw):
            leaves[0] += 1
            if leaves[0] > MAX_LEAVES:
                raise invalid_input(f"filter has more than {MAX_LEAVES} conditions", "filter")
            parts.append(build(raw, f"{path}.{name}"))
    for attr, name in (("and_", "and"), ("or_", "or")):
        subs = getattr(f, attr)
        if not given(subs):
            continue
        if not subs:
            raise invalid_input(f"{path}.{name} must not be empty", f"{path}.{name}")
        specs = [
            _spec(s, f"{path}.{name}[{i}]", depth=depth + 1, leaves=leaves)
            for i, s in enumerate(subs)
        ]
        if name == "and":
            parts += [s for s in specs if s is not None]
        elif all(s is not None for s in specs):  # an empty member makes the OR always true
            parts.append(_one(Or, [s for s in specs if s is not None]))
    if f.not_ is not None and given(f.not_):
        inner = _spec(f.not_, f"{path}.not", depth=depth + 1, leaves=leaves)
        parts.append(NOTHING if inner is None else Not(inner))
    if not parts:
        return None
    return _one(And, parts)


def _one(kind: type[And] | type[Or], parts: list[Spec]) -> Spec:
    return parts[0] if len(parts) == 1 else kind(tuple(parts))


def to_sort(order_by: Sequence[OrderOrder] | None) -> tuple[Sort, ...]:
    if not order_by:  # omitted (UNSET is falsy), null or []
        return DEFAULT_SORT
    fields = [o.field for o in order_by]
    if len(set(fields)) != len(fields):
        raise invalid_input("orderBy names a field more than once", "orderBy")
    return tuple(
        Sort(SortField(value_of(o.field)), o.direction is Direction.DESC) for o in order_by
    )
