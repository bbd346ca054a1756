"""SqlOrderReads on SQLite and PostgreSQL: filters agree with the specs in memory, keyset pages
walk every row once, stats match a Python computation to the cent, children group by order."""

from __future__ import annotations

import random
from collections import defaultdict
from collections.abc import AsyncIterator
from datetime import UTC, timedelta
from decimal import Decimal
from typing import Any
from uuid import UUID

import pytest
from sqlalchemy.ext.asyncio import create_async_engine

from app.orders.views import DEFAULT_SORT, Sort, SortField, StatsBucket, StatsGroup
from domain.orders.specs import And, Compare, Not, Or, Spec, processed, unprocessed
from infrastructure.db.engine import create_engine
from infrastructure.db.order_reads import SqlOrderReads
from infrastructure.db.tables import orders
from tests.factories import BASE, as_order, insert_rows, order_row, seed_orders

COUNT = 300
ALL = 10_000


@pytest.fixture
async def seeded(db_url: str) -> AsyncIterator[tuple[SqlOrderReads, list[dict[str, Any]]]]:
    engine = create_engine(db_url, pool_size=2)
    try:
        rows = await seed_orders(engine, COUNT)
        yield SqlOrderReads(engine), rows
    finally:
        await engine.dispose()


def matching(spec: Spec | None, rows: list[dict[str, Any]]) -> set[UUID]:
    return {r["id"] for r in rows if spec is None or spec.is_satisfied_by(as_order(r))}


async def selected(reads: SqlOrderReads, spec: Spec | None) -> set[UUID]:
    page = await reads.page(spec, DEFAULT_SORT, ALL, None)
    assert not page.has_next
    return {v.id for v in page.items}


def random_leaf(rng: random.Random, rows: list[dict[str, Any]]) -> Spec:
    row = rng.choice(rows)
    field = rng.choice(
        ["branch", "order_status", "created_at", "amount", "whatsapp_alerts_enabled",
         "processed_at", "client_email", "client_phone", "product_doc_type", "product_country"]
    )  # fmt: skip
    value = row[field]
    if field in ("created_at", "amount", "processed_at") and value is not None:
        op = rng.choice(["gte", "lt", "eq"])
        return Compare(field, op, value)
    if rng.random() < 0.3:
        pool = {r[field] for r in rng.sample(rows, 3)} | {value}
        return Compare(field, "in", tuple(pool))
    return Compare(field, "eq", value)


def random_spec(rng: random.Random, rows: list[dict[str, Any]], depth: int = 0) -> Spec:
    if depth >= 3 or rng.random() < 0.35:
        return random_leaf(rng, rows)
    kind = rng.choice(["and", "or", "not"])
    if kind == "not":
        return Not(random_spec(rng, rows, depth + 1))
    parts = tuple(random_spec(rng, rows, depth + 1) for _ in range(rng.randint(0, 3)))
    return And(parts) if kind == "and" else Or(parts)


T1 = BASE + timedelta(days=2, hours=5)
LEAVES: list[Spec] = [
    Compare("branch", "eq", "il"),
    Compare("branch", "in", ("se", "kz")),
    Compare("branch", "in", ()),
    Compare("order_status", "eq", "issue"),
    Compare("created_at", "gte", T1),
    Compare("created_at", "lt", T1),
    Compare("amount", "gte", Decimal("49.00")),
    Compare("amount", "lt", Decimal("49.00")),
    Compare("amount", "eq", Decimal("0.01")),
    Compare("amount", "in", (Decimal("19.99"), Decimal("999.95"))),
    Compare("whatsapp_alerts_enabled", "eq", True),
    unprocessed(),
    processed(),
    Compare("processed_at", "gte", T1),
    Compare("processed_at", "lt", T1),
    Compare("client_email", "eq", "c3@example.com"),
    Compare("client_email", "in", ("c1@example.com", None)),
    Compare("client_phone", "eq", "972507247157"),
    Compare("product_doc_type", "eq", None),
    Compare("product_doc_type", "in", ("eta", "esta")),
    Compare("product_country", "eq", "india"),
]


async def test_every_leaf_and_its_negation_match_memory(seeded: Any) -> None:
    reads, rows = seeded
    for leaf in LEAVES:
        for spec in (leaf, Not(leaf), Not(Not(leaf))):
            expected = matching(spec, rows)
            assert await selected(reads, spec) == expected, spec
            assert await reads.count(spec) == len(expected), spec
        assert matching(leaf, rows) | matching(Not(leaf), rows) == matching(None, rows)


async def test_generated_specs_match_memory(seeded: Any) -> None:
    reads, rows = seeded
    rng = random.Random(20261120)
    sizes = []
    for _ in range(30):
        spec = random_spec(rng, rows)
        expected = matching(spec, rows)
        sizes.append(len(expected))
        assert await selected(reads, spec) == expected, spec
    # The generator must produce selective filters, not only "all" and "none".
    assert len([s for s in sizes if 0 < s < COUNT]) >= 15


def python_order(rows: list[dict[str, Any]], sort: tuple[Sort, ...]) -> list[UUID]:
    """Rows in sort order, ties broken by id in the last key's direction (stable sorts)."""
    ordered = sorted(rows, key=lambda r: r["id"], reverse=sort[-1].descending)
    for s in reversed(sort):
        ordered.sort(key=lambda r, f=s.field.value: r[f], reverse=s.descending)
    return [r["id"] for r in ordered]


SORTS = [(Sort(field, descending),) for field in SortField for descending in (False, True)] + [
    (Sort(SortField.AMOUNT, True), Sort(SortField.CREATED_AT, False)),
    (Sort(SortField.AMOUNT, False), Sort(SortField.CREATED_AT, False)),
    (
        Sort(SortField.CREATED_AT, True),
        Sort(SortField.AMOUNT, False),
        Sort(SortField.ORDER_ID, True),
    ),
]


@pytest.mark.parametrize(
    "sort", SORTS, ids=lambda s: ",".join(f"{x.field}:{x.descending}" for x in s)
)
async def test_keyset_pages_walk_every_row_once(seeded: Any, sort: tuple[Sort, ...]) -> None:
    reads, rows = seeded
    spec = Compare("branch", "in", ("il", "se", "co"))
    subset = [r for r in rows if r["branch"] in ("il", "se", "co")]
    walked: list[UUID] = []
    after = None
    pages = 0
    while True:
        page = await reads.page(spec, sort, 17, after)
        walked += [v.id for v in page.items]
        pages += 1
        assert len(page.items) == len(page.keysets)
        if not page.has_next:
            break
        assert len(page.items) == 17
        after = page.keysets[-1]
    assert walked == python_order(subset, sort)
    assert pages == -(-len(subset) // 17)


async def test_first_zero_and_empty_pages(seeded: Any) -> None:
    reads, _ = seeded
    page = await reads.page(None, DEFAULT_SORT, 0, None)
    assert (page.items, page.has_next) == ([], True)
    page = await reads.page(Compare("branch", "eq", "nowhere"), DEFAULT_SORT, 5, None)
    assert (page.items, page.has_next) == ([], False)


def python_stats(rows: list[dict[str, Any]], group: StatsGroup) -> list[StatsBucket]:
    key = {
        StatsGroup.BRANCH: lambda r: r["branch"],
        StatsGroup.STATUS: lambda r: r["order_status"],
        StatsGroup.COUNTRY: lambda r: r["product_country"],
        StatsGroup.CURRENCY: lambda r: r["currency"],
        StatsGroup.DAY: lambda r: r["created_at"].astimezone(UTC).date().isoformat(),
    }[group]
    counts: dict[str, int] = defaultdict(int)
    sums: dict[str, Decimal] = defaultdict(Decimal)
    for r in rows:
        counts[key(r)] += 1
        sums[key(r)] += r["amount"]
    return [StatsBucket(k, counts[k], sums[k]) for k in sorted(counts)]


@pytest.mark.parametrize("group", list(StatsGroup))
async def test_stats_match_python(seeded: Any, group: StatsGroup) -> None:
    reads, rows = seeded
    for spec in (None, Compare("amount", "gte", Decimal("49.00")), Not(unprocessed())):
        subset = [r for r in rows if spec is None or spec.is_satisfied_by(as_order(r))]
        buckets = await reads.stats(spec, group)
        assert buckets == python_stats(subset, group)
        assert all(type(b.total_amount) is Decimal for b in buckets)
    assert len(await reads.stats(None, group)) > 1
    assert await reads.stats(Compare("branch", "eq", "nowhere"), group) == []


async def test_day_buckets_are_utc_whatever_the_session_time_zone(db_url: str) -> None:
    # Kiritimati is UTC+14: a local-time bucket would move every order to the next day.
    args = {} if db_url.startswith("sqlite") else {"server_settings": {"timezone": "Etc/GMT-14"}}
    engine = create_async_engine(db_url, connect_args=args)
    try:
        late = BASE + timedelta(hours=23, minutes=59)
        rows = [order_row(1, created_at=late), order_row(2, created_at=late + timedelta(minutes=1))]
        await insert_rows(engine, orders, rows)
        buckets = await SqlOrderReads(engine).stats(None, StatsGroup.DAY)
    finally:
        await engine.dispose()
    day = BASE.date()
    assert [(b.key, b.count) for b in buckets] == [
        (day.isoformat(), 1),
        ((day + timedelta(days=1)).isoformat(), 1),
    ]


async def test_by_ids_and_by_order_id(seeded: Any) -> None:
    reads, rows = seeded
    wanted = [rows[5]["id"], rows[0]["id"], UUID(int=0)]
    views = await reads.by_ids(wanted)
    assert {v.id for v in views} == set(wanted[:2])
    view = next(v for v in views if v.id == rows[0]["id"])
    for name in ("order_id", "amount", "created_at", "processed_at", "client_email", "branch"):
        assert getattr(view, name) == rows[0][name]
    assert [(f.field, f.issue) for f in view.flags] == [
        (f["field"], f["issue"]) for f in rows[0]["flags"]
    ]
    assert await reads.by_ids([]) == []
    found = await reads.by_order_id(rows[7]["order_id"])
    assert found is not None
    assert found.id == rows[7]["id"]
    assert await reads.by_order_id("nope") is None


async def test_children_group_by_order(seeded: Any) -> None:
    reads, rows = seeded
    ids = [r["id"] for r in rows[:6]] + [UUID(int=0)]
    events = await reads.events_for(ids)
    assert set(events) == set(ids[:6])
    for i, order_id in enumerate(ids[:6]):
        types = [e.type for e in events[order_id]]
        # Two events for every other order, oldest first.
        assert types == (["order.created", "order.noted"] if i % 2 == 0 else ["order.created"])
        assert all(e.aggregate_id == order_id for e in events[order_id])
    syncs = await reads.contact_syncs_for(ids)
    assert set(syncs) == {ids[0], ids[3]}
    assert syncs[ids[0]].contact_id == f"contact-{rows[0]['order_id']}"
    notes = await reads.notifications_for(ids)
    assert [n.kind for n in notes[ids[0]]] == ["order_confirmation", "visa_approval"]
    assert [n.kind for n in notes[ids[2]]] == ["order_confirmation"]
    assert set(notes) == {ids[0], ids[2], ids[4]}
    assert await reads.events_for([]) == {}
