"""The rows of the table: which server, which request bodies, and what a good answer contains."""

from __future__ import annotations

import hashlib
import json
import random
from collections.abc import Sequence
from dataclasses import dataclass, field
from urllib.parse import urlencode

from infrastructure.db.seed import demo_body

# Replaced by a unique order id in every createOrder request (see wrk.lua).
OID = "__OID__"
# createOrder's branch mix: the storefront is Israeli first (only `il` orders sync to the CRM and
# write an outbox job), the other branches share the rest. 8/20 il, 3/20 each of the others.
BRANCH_MIX = {"il": 8, "se": 3, "co": 3, "ru": 3, "kz": 3}

ORDER_FIELDS = "id orderId branch orderStatus amount currency clientName createdAt"
ORDER = f"query Order($id: ID!) {{ order(id: $id) {{ {ORDER_FIELDS} }} }}"
ORDERS_FILTERED = (
    "query Orders($filter: OrderFilter) { orders(first: 20, filter: $filter) { totalCount "
    "edges { cursor node { id orderId branch orderStatus amount currency createdAt } } "
    "pageInfo { hasNextPage endCursor } } }"
)
ORDERS_EVENTS = (
    "query Page($first: Int!) { orders(first: $first) { edges { cursor node { id orderId amount "
    "events { id type occurredAt } } } pageInfo { hasNextPage endCursor } } }"
)
# The same reads asked of PostGraphile 4 (tests/bench/postgraphile.py): its names for them.
PG_ORDER = f"query Order($id: UUID!) {{ orderById(id: $id) {{ {ORDER_FIELDS} }} }}"
PG_ORDERS_FILTERED = (
    "query Orders($branch: String, $status: String) { allOrders(first: 20, orderBy: "
    "[CREATED_AT_DESC, ID_DESC], condition: {branch: $branch, orderStatus: $status}) { totalCount "
    "edges { cursor node { id orderId branch orderStatus amount currency createdAt } } "
    "pageInfo { hasNextPage endCursor } } }"
)
STATS = "query Stats { orderStats(groupBy: BRANCH) { key count totalAmount } }"
CREATE = (
    "mutation Create($payload: JSON!) { createOrder(payload: $payload) { __typename "
    "... on OrderAccepted { created order { id orderId branch processingDays } } "
    "... on InvalidOrder { message field } ... on OrderSkipped { reason } } }"
)


@dataclass(frozen=True)
class Row:
    key: str  # short id, used for file names and targets
    label: str  # the table's first column
    # "bare" | "redis" | "naive" | "peer" | "postgraphile" | "product" (servers.command)
    server: str
    path: str
    expect: str  # every good answer contains it (and no "errors")
    bodies: Sequence[str] = field(default_factory=tuple)  # POST JSON bodies; none = GET
    unique: bool = False  # bodies carry OID, replaced per request
    # Not measurable yet: what it waits for ("part C: persisted documents"); shown, not loaded.
    needs: str = ""
    # A POST body sent once when the server is ready, before the warm-up: a persisted row's
    # APQ registration (the document with its hash), so that the load sends the hash alone.
    register: str = ""
    env: tuple[tuple[str, str], ...] = ()  # the server's settings for this row only

    @property
    def is_post(self) -> bool:
        return bool(self.bodies)


def gql(query: str, variables: dict[str, object] | None = None) -> str:
    return json.dumps({"query": query, "variables": variables or {}}, separators=(",", ":"))


def _compact(value: object) -> str:
    return json.dumps(value, separators=(",", ":"))


def apq(query: str) -> dict[str, object]:
    digest = hashlib.sha256(query.encode()).hexdigest()
    return {"persistedQuery": {"version": 1, "sha256Hash": digest}}


def registration(query: str, variables: dict[str, object]) -> str:
    """Apollo's registering request: the document with its hash."""
    return _compact({"query": query, "variables": variables, "extensions": apq(query)})


def by_hash(query: str, variables: dict[str, object]) -> str:
    """A persisted request's POST body: the hash alone."""
    return _compact({"variables": variables, "extensions": apq(query)})


def by_hash_get(path: str, query: str, variables: dict[str, object]) -> str:
    """A persisted request by GET (Apollo's useGETForHashedQueries): a cacheable URL."""
    return (
        path
        + "?"
        + urlencode({"extensions": _compact(apq(query)), "variables": _compact(variables)})
    )


def create_order_bodies(seed: int = 7) -> list[str]:
    """Storefront bodies in BRANCH_MIX proportions, the order id left as OID."""
    rng = random.Random(seed)
    wanted = dict(BRANCH_MIX)
    bodies: list[str] = []
    n = 0
    while any(wanted.values()):
        body = demo_body(rng, n, "BENCH")
        n += 1
        branch = body["order"]["branch"]
        if not wanted[branch]:
            continue
        wanted[branch] -= 1
        body["order"]["id"] = f"{branch.upper()}B{OID}"
        body["order"]["status"] = "active"
        bodies.append(gql(CREATE, {"payload": body}))
    return bodies


def page_body(first: int) -> str:
    return gql(ORDERS_EVENTS, {"first": first})


# The product's read rows: issue 13's p95 target at half the saturated rate holds for each.
READ_ROWS = ("order", "order_persisted_hit", "orders20", "orders20p", "orders50", "stats")


def build_rows(order_ids: Sequence[str]) -> list[Row]:
    """The table's rows in order; `order_ids` is the small warm set for order(id)."""
    by_id = [gql(ORDER, {"id": i}) for i in order_ids]
    pg_by_id = [gql(PG_ORDER, {"id": i}) for i in order_ids]
    filtered: dict[str, object] = {"filter": {"branch": "il", "status": "ACTIVE"}}
    one = {"id": order_ids[0] if order_ids else ""}  # the response-cache hit: one URL
    return [
        Row("bare", "bare Starlette (baseline)", "bare", "/", '"hello"'),
        Row("redis", "Starlette + one Redis GET (baseline: floor of a cached answer)", "redis",
            "/", '"orderId"'),
        Row("naive", "naive Strawberry order(id) (baseline)", "naive", "/graphql", '"orderId"',
            by_id),
        Row("peer", "Strawberry peer order(id), ParserCache + ValidationCache, no auth "
            "(baseline)", "peer", "/graphql", '"orderId"', by_id),
        Row("pg_order", "PostGraphile 4 `orderById`, 8 fields (baseline)", "postgraphile",
            "/graphql", '"orderId"', pg_by_id),
        Row("pg_orders20", "PostGraphile 4 `allOrders(first: 20, condition)`, totalCount "
            "(baseline)", "postgraphile", "/graphql", '"totalCount"',
            [gql(PG_ORDERS_FILTERED, {"branch": "il", "status": "active"})]),
        Row("healthz", "`/api/v1/healthz`", "product", "/api/v1/healthz", '"ok"'),
        Row("order", "`order(id)` plain document, auth, read cache warm, PII field", "product",
            "/graphql", '"orderId"', by_id),
        Row("order_persisted_hit", "`order(id)` persisted document by GET, response cache hit",
            "product", by_hash_get("/graphql", ORDER, one), '"orderId"',
            register=registration(ORDER, one), env=(("VISAPI_RESPONSE_CACHE", "true"),)),
        Row("orders20", "`orders(first: 20)` il+ACTIVE, totalCount, plain document", "product",
            "/graphql", '"totalCount"', [gql(ORDERS_FILTERED, filtered)]),
        Row("orders20p", "`orders(first: 20)` il+ACTIVE, totalCount, persisted, response cache "
            "off", "product", "/graphql", '"totalCount"', [by_hash(ORDERS_FILTERED, filtered)],
            register=registration(ORDERS_FILTERED, filtered)),
        Row("orders50", "`orders(first: 50)` + `events`", "product", "/graphql", '"events"',
            [page_body(50)]),
        Row("stats", "`orderStats(groupBy: BRANCH)`", "product", "/graphql", '"totalAmount"',
            [gql(STATS)]),
        Row("create", "`createOrder` (new id each)", "product", "/graphql", '"created":true',
            create_order_bodies(), unique=True),
    ]  # fmt: skip
