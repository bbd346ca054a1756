"""Order queries through the GraphQL schema against a real database, on both dialects.

Includes the statement-count check: a page of orders with all its children costs the same
number of SQL statements whatever the page size (DataLoaders batch; nothing is N+1).
"""

from __future__ import annotations

import base64
from collections import Counter
from collections.abc import AsyncIterator
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine

from app.services import Services
from domain.auth.permissions import Role
from graph.context import Context
from graph.schema import schema
from infrastructure.cache.memory import MemoryCache
from tests.auth import user
from tests.factories import seed_orders
from visapi.bootstrap import bootstrap
from visapi.settings import Settings

COUNT = 120


@dataclass
class Api:
    engine: AsyncEngine
    services: Services
    rows: list[dict[str, Any]]
    statements: list[str]

    async def run(self, query: str, **variables: Any) -> Any:
        # The schema alone (no HTTP gate): the caller is what a viewer's token yields.
        ctx = Context(self.services, "t", principal=user(Role.VIEWER))
        return await schema.execute(query, variable_values=variables, context_value=ctx)

    async def data(self, query: str, **variables: Any) -> dict[str, Any]:
        result = await self.run(query, **variables)
        assert result.errors is None, result.errors
        data: dict[str, Any] = result.data
        return data

    async def error(self, query: str, **variables: Any) -> dict[str, Any]:
        result = await self.run(query, **variables)
        assert result.errors, result.data
        assert len(result.errors) == 1
        return {"message": result.errors[0].message, **(result.errors[0].extensions or {})}

    def selects(self) -> int:
        # SQLite connections also send "BEGIN DEFERRED" (infrastructure.db.engine); not a query.
        kinds = Counter(s.split()[0].upper() for s in self.statements)
        assert set(kinds) <= {"SELECT", "BEGIN"}, kinds
        return kinds["SELECT"]


@pytest.fixture
async def api(db_url: str) -> AsyncIterator[Api]:
    settings = Settings(
        database_url=db_url,
        db_pool_size=2,
        cache_order_ttl_s=60,
        cache_stats_ttl_s=60,
        cache_unprocessed_ttl_s=30,
    )
    container = bootstrap(settings, cache=MemoryCache())
    engine = container.engine
    try:
        rows = await seed_orders(engine, COUNT)
        statements: list[str] = []

        @event.listens_for(engine.sync_engine, "before_cursor_execute")
        def count(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
            statements.append(statement)

        yield Api(engine, container.services, rows, statements)
    finally:
        await container.aclose()


ORDER = """query($id: ID, $orderId: String) { order(id: $id, orderId: $orderId) {
  id orderId branch orderStatus amount currency clientEmail processedAt createdAt
  flags { field issue } events { type aggregateType aggregateId payload occurredAt }
  contactSync { synced contactId attempts } notifications { kind status sentAt } } }"""


async def test_order_by_id_and_by_order_id(api: Api) -> None:
    row = api.rows[0]
    by_id = (await api.data(ORDER, id=str(row["id"])))["order"]
    by_order_id = (await api.data(ORDER, orderId=row["order_id"]))["order"]
    assert by_id == by_order_id
    assert by_id["id"] == str(row["id"])
    assert by_id["orderStatus"] == row["order_status"].upper()
    assert by_id["amount"] == str(row["amount"])  # Decimal as an exact string
    assert by_id["createdAt"] == row["created_at"].isoformat()
    assert [e["type"] for e in by_id["events"]] == ["order.created", "order.noted"]
    assert by_id["events"][0]["aggregateId"] == str(row["id"])
    assert by_id["events"][0]["payload"] == {"order_id": row["order_id"]}
    assert by_id["contactSync"]["synced"] is True
    assert [(n["kind"], n["status"]) for n in by_id["notifications"]] == [
        ("order_confirmation", "SENT"),
        ("visa_approval", "QUEUED"),
    ]
    bare = (await api.data(ORDER, id=str(api.rows[1]["id"])))["order"]
    assert bare["contactSync"] is None
    assert bare["notifications"] == []


async def test_unknown_order_is_null(api: Api) -> None:
    assert (await api.data(ORDER, id="00000000-0000-0000-0000-000000000000"))["order"] is None
    assert (await api.data(ORDER, orderId="IL000"))["order"] is None


@pytest.mark.parametrize(
    ("variables", "field"),
    [
        ({"id": "not-a-uuid"}, "id"),
        ({}, "id"),
        ({"id": "00000000-0000-0000-0000-000000000000", "orderId": "IL1"}, "id"),
    ],
)
async def test_order_argument_errors(api: Api, variables: dict[str, str], field: str) -> None:
    error = await api.error(ORDER, **variables)
    assert (error["code"], error["field"]) == ("INVALID_INPUT", field)


ORDERS = """query($filter: OrderFilter, $orderBy: [OrderOrder!], $first: Int, $after: String) {
  orders(filter: $filter, orderBy: $orderBy, first: $first, after: $after) {
    edges { cursor node { id amount branch } }
    pageInfo { hasNextPage endCursor hasPreviousPage startCursor } } }"""


async def test_orders_filter_sort_and_walk_all_pages(api: Api) -> None:
    variables: dict[str, Any] = {
        "filter": {
            "or": [{"branch": "il"}, {"branchIn": ["se", "co"], "amountGte": "49.00"}],
            "not": {"unprocessed": False},
        },
        "orderBy": [
            {"field": "AMOUNT", "direction": "DESC"},
            {"field": "ORDER_ID", "direction": "ASC"},
        ],
        "first": 7,
    }
    expected = [
        r
        for r in api.rows
        if r["processed_at"] is None
        and (r["branch"] == "il" or (r["branch"] in ("se", "co") and r["amount"] >= 49))
    ]
    expected.sort(key=lambda r: r["order_id"])
    expected.sort(key=lambda r: r["amount"], reverse=True)
    seen: list[str] = []
    while True:
        conn = (await api.data(ORDERS, **variables))["orders"]
        seen += [e["node"]["id"] for e in conn["edges"]]
        assert conn["pageInfo"]["endCursor"] == (
            conn["edges"][-1]["cursor"] if conn["edges"] else None
        )
        assert conn["pageInfo"]["startCursor"] == conn["edges"][0]["cursor"]
        assert conn["pageInfo"]["hasPreviousPage"] is ("after" in variables)
        if not conn["pageInfo"]["hasNextPage"]:
            break
        variables["after"] = conn["pageInfo"]["endCursor"]
    assert seen == [str(r["id"]) for r in expected]
    assert len(expected) > 14  # at least three pages were walked


async def test_default_order_and_total_count(api: Api) -> None:
    query = """query($f: OrderFilter) { orders(filter: $f) {
        totalCount edges { node { createdAt } } pageInfo { hasNextPage } } }"""
    conn = (await api.data(query))["orders"]
    assert conn["totalCount"] == COUNT
    assert len(conn["edges"]) == 20  # the default page size
    times = [e["node"]["createdAt"] for e in conn["edges"]]
    assert times == sorted(times, reverse=True)
    assert conn["pageInfo"]["hasNextPage"] is True
    unprocessed = sum(1 for r in api.rows if r["processed_at"] is None)
    conn = (await api.data(query, f={"unprocessed": True}))["orders"]
    assert conn["totalCount"] == unprocessed


async def test_order_stats_for_every_group(api: Api) -> None:
    query = """query($g: OrderStatsGroup!, $f: OrderFilter) {
        orderStats(groupBy: $g, filter: $f) { key count totalAmount } }"""
    keys = {
        "BRANCH": lambda r: r["branch"],
        "STATUS": lambda r: r["order_status"],
        "COUNTRY": lambda r: r["product_country"],
        "CURRENCY": lambda r: r["currency"],
        "DAY": lambda r: r["created_at"].date().isoformat(),
    }
    subset = [r for r in api.rows if r["whatsapp_alerts_enabled"]]
    for group, key in keys.items():
        buckets = (await api.data(query, g=group, f={"whatsappAlertsEnabled": True}))["orderStats"]
        counts = Counter(key(r) for r in subset)
        sums: dict[str, Decimal] = {}
        for r in subset:
            sums[key(r)] = sums.get(key(r), Decimal("0.00")) + r["amount"]
        assert buckets == [
            {"key": k, "count": counts[k], "totalAmount": str(sums[k])} for k in sorted(counts)
        ]


def _cursor_for(sort: list[str]) -> str:
    raw = f'[{sort!r}, ["2026-11-20T00:00:00+00:00"], "00000000-0000-0000-0000-000000000001"]'
    return base64.urlsafe_b64encode(raw.replace("'", '"').encode()).decode()


@pytest.mark.parametrize(
    ("variables", "field"),
    [
        ({"first": 101}, "first"),
        ({"first": -1}, "first"),
        ({"after": "garbage"}, "after"),
        ({"after": _cursor_for(["created_at:asc"])}, "after"),  # made for another orderBy
        ({"filter": {"and": []}}, "filter.and"),
        ({"filter": {"or": [{"branch": "il"}, {"not": {"or": []}}]}}, "filter.or[1].not.or"),
        ({"filter": {"not": {"not": {"not": {"not": {"not": {"branch": "il"}}}}}}}, "filter"),
        ({"filter": {"amountGte": "NaN"}}, "filter.amountGte"),
        ({"orderBy": [{"field": "AMOUNT", "direction": "ASC"}] * 2}, "orderBy"),
    ],
)
async def test_invalid_list_input(api: Api, variables: dict[str, Any], field: str) -> None:
    error = await api.error(ORDERS, **variables)
    assert error["code"] == "INVALID_INPUT"
    assert error["field"].startswith(field)
    assert api.selects() == 0  # bad input never reaches the database


async def test_a_cursor_from_the_right_sort_is_accepted(api: Api) -> None:
    conn = (await api.data(ORDERS, after=_cursor_for(["created_at:desc"]), first=100))["orders"]
    assert conn["edges"] == []  # nothing before the first seeded instant


PAGE = """query($first: Int) { orders(first: $first) { edges { node {
  id events { type } contactSync { synced } notifications { status } } } } }"""


async def test_statements_per_page_do_not_grow_with_the_page(api: Api) -> None:
    api.statements.clear()
    small = (await api.data(PAGE, first=5))["orders"]["edges"]
    small_count = api.selects()
    api.statements.clear()
    large = (await api.data(PAGE, first=50))["orders"]["edges"]
    large_count = api.selects()
    assert (len(small), len(large)) == (5, 50)
    assert sum(len(e["node"]["events"]) for e in large) >= 50
    assert any(e["node"]["contactSync"] for e in large)
    assert any(e["node"]["notifications"] for e in large)
    # 1 page + 1 events + 1 contact syncs + 1 notifications; no count (totalCount not selected).
    assert small_count == large_count == 4


# The same children asked three ways: the page loads them in one batch before it completes
# (graph.orders), and each order's `events` reads that batch whichever way it was asked.
EVENTS_WAYS = [
    "{ orders(first: 30) { edges { node { id events { id type occurredAt } } } } }",
    "{ orders(first: 30) { edges { node { id ...E } } } } "
    "fragment E on Order { events { id type occurredAt } }",
    "{ orders(first: 30) { edges { ... on OrderEdge { node { id history: events { id type "
    "occurredAt } } } } } }",
]


async def test_a_page_loads_its_events_once_however_they_are_asked(api: Api) -> None:
    answers = []
    for query in EVENTS_WAYS:
        api.statements.clear()
        edges = (await api.data(query))["orders"]["edges"]
        assert api.selects() == 2  # the page, then every order's events in one statement
        answers.append([(e["node"]["id"], e["node"].get("events", e["node"].get("history")))
                        for e in edges])  # fmt: skip
    assert answers[0] == answers[1] == answers[2]
    by_id = {str(r["id"]): r for r in api.rows}
    assert len(answers[0]) == 30
    assert all(events for _, events in answers[0])
    assert all(events[0]["type"] == "order.created" for _, events in answers[0])
    assert all(id in by_id for id, _ in answers[0])


async def test_a_page_without_events_does_not_load_them(api: Api) -> None:
    api.statements.clear()
    await api.data("{ orders(first: 30) { edges { node { id amount } } } }")
    assert api.selects() == 1
    assert not any("events" in s for s in api.statements)


async def test_total_count_costs_one_statement_only_when_selected(api: Api) -> None:
    api.statements.clear()
    await api.data("{ orders(first: 3) { edges { cursor } } }")
    assert api.selects() == 1
    api.statements.clear()
    await api.data("{ orders(first: 3) { totalCount edges { cursor } } }")
    assert api.selects() == 2
    assert any("count(*)" in s.lower() for s in api.statements)
