"""Fuzz the order side of GraphQL: createOrder payloads (as variables and as literals), OrderFilter
trees, cursors (random, truncated, other connections'), orderBy and page sizes."""

from __future__ import annotations

import base64
import json
from typing import Any

from hypothesis import strategies as st

from tests.fuzz.strategies import (
    NASTY,
    ORDER_FIXTURES,
    json_values,
    literal,
    names_only,
    orders,
    text,
)
from tests.fuzz.support import Target, fuzz

CREATE = """mutation($p: JSON!) { createOrder(payload: $p) { __typename
  ... on OrderAccepted { created order { id orderId amount } }
  ... on InvalidOrder { message field } ... on OrderSkipped { reason } } }"""
ORDERS = """query($f: OrderFilter, $o: [OrderOrder!], $n: Int, $a: String) {
  orders(filter: $f, orderBy: $o, first: $n, after: $a) {
    totalCount edges { cursor node { id orderId amount status createdAt } }
    pageInfo { hasNextPage endCursor } } }"""
STATS = """query($f: OrderFilter, $g: OrderStatsGroup!) {
  orderStats(filter: $f, groupBy: $g) { key count totalAmount } }"""
# Connections of other types, whose cursors are fed to `orders(after:)`.
OTHER_CURSORS = [
    "{ apiKeys(first: 1) { pageInfo { endCursor } } }",
    "{ users(first: 1) { pageInfo { endCursor } } }",
    "{ logs(first: 1) { pageInfo { endCursor } } }",
    "{ workflows(first: 1) { pageInfo { endCursor } } }",
    "{ failedJobs(first: 1) { pageInfo { endCursor } } }",
]
instants = st.one_of(
    st.datetimes(timezones=st.timezones()).map(lambda d: d.isoformat()),
    st.datetimes().map(lambda d: d.isoformat()),
    st.sampled_from(["2026-01-01", "2026-01-01T00:00:00Z", "yesterday", "", "1e10"]),
)
decimals = st.one_of(
    st.decimals(allow_nan=True, allow_infinity=True).map(str),
    st.sampled_from(["1e400", "-0", "0.000000000000000000001", "NaN", "sNaN", "1_000", "٣"]),
    st.integers(),
    st.floats(),
)
statuses = st.sampled_from(["ACTIVE", "COMPLETED", "ISSUE", "CANCELED", "PENDING", "active", "X"])
leaf_fields = {
    "branch": text,
    "branchIn": st.lists(text, max_size=4),
    "status": statuses,
    "createdFrom": instants,
    "createdTo": instants,
    "amountGte": decimals,
    "whatsappAlertsEnabled": st.booleans(),
    "unprocessed": st.booleans(),
    "clientEmail": text,
    "clientPhone": text,
    "visaType": text,
    "productCountry": text,
}
leaf = st.one_of(
    st.fixed_dictionaries({}, optional=leaf_fields),
    st.dictionaries(st.sampled_from([*leaf_fields, "bogus"]), json_values, max_size=3),
)
filters = st.recursive(
    leaf,
    lambda inner: st.one_of(
        st.builds(lambda xs: {"and": xs}, st.lists(inner, max_size=3)),
        st.builds(lambda xs: {"or": xs}, st.lists(inner, max_size=3)),
        st.builds(lambda x: {"not": x}, inner),
        st.builds(lambda x, y: {**x, **y}, inner, leaf),
    ),
    max_leaves=8,
)
order_by = st.one_of(
    st.none(),
    st.lists(
        st.fixed_dictionaries(
            {
                "field": st.sampled_from(["CREATED_AT", "AMOUNT", "ORDER_ID", "ID", "amount"]),
                "direction": st.sampled_from(["ASC", "DESC", "UP"]),
            }
        ),
        max_size=4,
    ),
    json_values,
)
page_sizes = st.one_of(
    st.none(), st.integers(-5, 150), st.sampled_from([2**31 - 1, -(2**31), 2**31, 10**20, "5"])
)


def seed_orders(app: Target) -> None:
    for payload in ORDER_FIXTURES:
        app.graphql(CREATE, {"p": payload})


def test_create_order(app: Target) -> None:
    def send(value: tuple[Any, bool]) -> None:
        payload, inline = value
        if inline:
            argument = literal(names_only(payload))
            app.graphql(f"mutation {{ createOrder(payload: {argument}) {{ __typename }} }}")
        else:
            app.graphql(CREATE, {"p": payload})

    payloads = st.one_of(orders(), orders(), json_values)
    fuzz(app, "createOrder", 0.12, st.tuples(payloads, st.booleans()), send)


def test_order_filters(app: Target) -> None:
    seed_orders(app)

    def send(value: tuple[Any, Any, bool]) -> None:
        spec, sort, inline = value
        if inline:
            app.graphql(
                f"{{ orders(filter: {literal(spec)}) {{ totalCount edges {{ node {{ id }} }} }} }}"
            )
        else:
            app.graphql(ORDERS, {"f": spec, "o": sort})
            app.graphql(STATS, {"f": spec, "g": "STATUS"})

    fuzz(app, "order filters", 0.12, st.tuples(filters, order_by, st.booleans()), send)


def _cursor(document: Any) -> str | None:
    data = (document or {}).get("data") or {}
    for connection in data.values():
        if isinstance(connection, dict):
            return (connection.get("pageInfo") or {}).get("endCursor")
    return None


def test_cursors_order_by_and_page_sizes(app: Target) -> None:
    seed_orders(app)
    real = [
        _cursor(app.graphql(ORDERS, {"n": 1, "o": [{"field": f, "direction": "ASC"}]}))
        for f in ("CREATED_AT", "AMOUNT", "ORDER_ID")
    ]
    real += [_cursor(app.graphql(q)) for q in OTHER_CURSORS]
    known = [c for c in real if c]
    assert known, "no cursor to mutate: the seed orders were not created"
    mangled = st.one_of(
        st.sampled_from(known),
        st.builds(lambda c, n: c[:n], st.sampled_from(known), st.integers(0, 60)),
        st.builds(
            lambda c, s: c + s, st.sampled_from(known), st.sampled_from(["=", "==", "!", "A"])
        ),
        json_values.map(lambda v: base64.urlsafe_b64encode(json.dumps(v).encode()).decode()),
        st.binary(max_size=80).map(lambda b: base64.urlsafe_b64encode(b).decode().rstrip("=")),
        st.sampled_from(NASTY),
        st.text(max_size=40),
    )

    def send(value: tuple[Any, Any, Any, Any]) -> None:
        after, sort, first, spec = value
        app.graphql(ORDERS, {"a": after, "o": sort, "n": first, "f": spec})

    strategy = st.tuples(mangled, order_by, page_sizes, st.none() | filters)
    fuzz(app, "cursors, orderBy, first", 0.08, strategy, send)
