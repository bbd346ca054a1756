"""Order read handlers with MemoryCache over a real database: what is cached, and what evicts it."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest

from app.bus import MessageBus
from app.orders.commands import CreateOrder, MarkOrdersProcessed, OrderAccepted
from app.orders.queries import OrderQueries
from app.orders.views import DEFAULT_SORT, OrderView, Sort, SortField, StatsGroup
from app.ports import Cache
from domain.orders.specs import Compare, unprocessed
from infrastructure.cache.memory import MemoryCache
from infrastructure.cache.redis import RedisCache, redis_client
from infrastructure.db.engine import create_engine
from infrastructure.db.order_reads import SqlOrderReads
from tests.factories import seed_orders
from tests.services import redis_url_or_skip
from visapi.bootstrap import bootstrap
from visapi.settings import Settings

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "vizi-orders"


class CountingReads:
    """SqlOrderReads that records each call (method name and first argument)."""

    def __init__(self, inner: SqlOrderReads) -> None:
        self._inner = inner
        self.calls: list[tuple[str, Any]] = []

    def __getattr__(self, name: str) -> Any:
        method = getattr(self._inner, name)

        async def call(*args: Any) -> Any:
            self.calls.append((name, args[0] if args else None))
            return await method(*args)

        return call


@dataclass
class World:
    reads: CountingReads
    cache: MemoryCache
    orders: OrderQueries
    bus: MessageBus
    rows: list[dict[str, Any]] = field(default_factory=list)

    def calls(self, name: str) -> list[Any]:
        return [arg for n, arg in self.reads.calls if n == name]


async def one(orders: OrderQueries, id: Any) -> Any:
    """The order with this id, through the DataLoader's batch handler (cached per id)."""
    return (await orders.orders_by_ids([id]))[0]


@pytest.fixture
async def world(settings: Settings) -> AsyncIterator[World]:
    # Reads through a counting wrapper on their own engine; everything else as bootstrapped.
    engine = create_engine(settings.database_url, pool_size=2)
    cache = MemoryCache()
    reads = CountingReads(SqlOrderReads(engine))
    container = bootstrap(settings, cache=cache, order_reads=reads)  # type: ignore[arg-type]
    try:
        rows = await seed_orders(engine, 40, children=False)
        yield World(reads, cache, container.orders, container.bus, rows)
    finally:
        await container.aclose()
        await engine.dispose()


async def test_order_by_id_is_served_from_the_cache_the_second_time(world: World) -> None:
    id = world.rows[3]["id"]
    first = await one(world.orders, id)
    second = await one(world.orders, id)
    assert first == second
    assert first is not None
    assert first.amount == world.rows[3]["amount"]
    assert world.calls("by_ids") == [[id]]
    assert world.cache.stats()["order"] == (1, 1)
    # "Not found" is not remembered: an order created later must be found.
    assert await one(world.orders, UUID(int=0)) is None
    assert await one(world.orders, UUID(int=0)) is None
    assert len(world.calls("by_ids")) == 3


async def test_a_batch_fetches_only_the_misses_in_one_query(world: World) -> None:
    a, b, c = (world.rows[i]["id"] for i in (0, 1, 2))
    await one(world.orders, a)  # cached by the single read ...
    views = await world.orders.orders_by_ids([b, a, UUID(int=0), c, b])
    assert [v.id if v else None for v in views] == [b, a, None, c, b]
    assert world.calls("by_ids") == [[a], [b, UUID(int=0), c]]
    # ... and the batch's rows serve both kinds of read afterwards.
    again = await world.orders.orders_by_ids([c, b, a])
    assert [v.id if v else None for v in again] == [c, b, a]
    assert (await one(world.orders, c)) == views[3]
    assert len(world.calls("by_ids")) == 2


async def test_stats_are_cached_per_spec_and_group(world: World) -> None:
    spec = Compare("amount", "gte", Decimal("49.00"))
    first = await world.orders.order_stats(spec, StatsGroup.BRANCH)
    # An equal spec built anew hits the same entry (the key is a hash of its canonical repr).
    again = await world.orders.order_stats(
        Compare("amount", "gte", Decimal("49.00")), StatsGroup.BRANCH
    )
    assert again == first
    assert type(again[0].total_amount) is Decimal
    await world.orders.order_stats(spec, StatsGroup.DAY)
    await world.orders.order_stats(None, StatsGroup.BRANCH)
    assert len(world.calls("stats")) == 3
    assert world.cache.stats()["order-stats"] == (1, 3)


async def test_unprocessed_first_page_is_cached_and_other_lists_are_not(world: World) -> None:
    first = await world.orders.order_page(unprocessed(), DEFAULT_SORT, 5, None)
    again = await world.orders.order_page(unprocessed(), DEFAULT_SORT, 5, None)
    assert again == first  # items, keysets (typed datetimes again) and has_next
    assert first.items
    assert all(v.processed_at is None for v in first.items)
    assert len(world.calls("page")) == 1
    by_amount = (Sort(SortField.AMOUNT, descending=False),)
    await world.orders.order_page(unprocessed(), by_amount, 5, None)
    await world.orders.order_page(unprocessed(), DEFAULT_SORT, 5, first.keysets[-1])
    await world.orders.order_page(None, DEFAULT_SORT, 5, None)
    assert len(world.calls("page")) == 4


async def test_writes_through_the_bus_evict_lists_stats_and_orders(world: World) -> None:
    body = json.loads((FIXTURES / "il-uk-eta.json").read_text())
    stats_before = await world.orders.order_stats(None, StatsGroup.BRANCH)
    page_before = await world.orders.order_page(unprocessed(), DEFAULT_SORT, 100, None)

    outcome = await world.bus.handle(CreateOrder(payload=body))
    assert isinstance(outcome, OrderAccepted)
    new_id = outcome.order.id

    stats_after = await world.orders.order_stats(None, StatsGroup.BRANCH)
    assert sum(b.count for b in stats_after) == sum(b.count for b in stats_before) + 1
    page_after = await world.orders.order_page(unprocessed(), DEFAULT_SORT, 100, None)
    assert new_id in {v.id for v in page_after.items}
    assert new_id not in {v.id for v in page_before.items}

    cached = await one(world.orders, new_id)
    assert cached is not None
    assert cached.processed_at is None
    assert await world.bus.handle(MarkOrdersProcessed(ids=(new_id,))) == 1
    processed = await one(world.orders, new_id)
    assert processed is not None
    assert processed.processed_at is not None
    final = await world.orders.order_page(unprocessed(), DEFAULT_SORT, 100, None)
    assert new_id not in {v.id for v in final.items}


async def test_without_a_cache_every_read_goes_to_the_database(world: World) -> None:
    orders = OrderQueries(
        world.reads,  # type: ignore[arg-type]
        None,
        order_ttl=60,
        stats_ttl=60,
        unprocessed_ttl=30,
    )
    id = world.rows[0]["id"]
    for _ in range(2):
        await orders.orders_by_ids([id])
        await orders.order_stats(None, StatsGroup.STATUS)
        await orders.order_page(unprocessed(), DEFAULT_SORT, 3, None)
    assert len(world.calls("by_ids")) == 2
    assert len(world.calls("stats")) == 2
    assert len(world.calls("page")) == 2
    assert world.cache.stats() == {}


class HeldReads(CountingReads):
    """CountingReads whose next `by_ids` holds its rows, once read, until released."""

    def __init__(self, inner: SqlOrderReads) -> None:
        super().__init__(inner)
        self.hold = False
        self.read_done = asyncio.Event()
        self.release = asyncio.Event()

    async def by_ids(self, ids: Sequence[UUID]) -> list[OrderView]:
        self.calls.append(("by_ids", ids))
        views = await self._inner.by_ids(ids)
        if self.hold:
            self.hold = False
            self.read_done.set()
            await self.release.wait()
        return views


@pytest.fixture(params=["memory", "redis"])
async def any_cache(request: pytest.FixtureRequest) -> AsyncIterator[Cache]:
    if request.param == "memory":
        yield MemoryCache()
        return
    client = redis_client(redis_url_or_skip())
    namespace = f"visapi-test-{uuid.uuid4().hex[:12]}"
    try:
        yield RedisCache(client, namespace)
    finally:
        keys = [k async for k in client.scan_iter(match=f"{namespace}:*")]
        if keys:
            await client.delete(*keys)
        await client.aclose()


async def test_a_write_during_a_batch_fetch_is_visible_on_the_next_read(
    settings: Settings, any_cache: Cache
) -> None:
    """MarkOrdersProcessed commits and evicts while a DataLoader batch holds rows it read."""
    engine = create_engine(settings.database_url, pool_size=2)
    reads = HeldReads(SqlOrderReads(engine))
    container = bootstrap(settings, cache=any_cache, order_reads=reads)  # type: ignore[arg-type]
    try:
        rows = await seed_orders(engine, 40, children=False)
        a, b = [r["id"] for r in rows if r["processed_at"] is None][:2]
        orders, bus = container.orders, container.bus

        reads.hold = True
        racing = asyncio.create_task(orders.orders_by_ids([a, b]))
        await reads.read_done.wait()
        assert await bus.handle(MarkOrdersProcessed(ids=(a,))) == 1
        reads.release.set()
        assert [v.processed_at if v else "missing" for v in await racing] == [None, None]

        fresh = await orders.orders_by_ids([a, b])  # misses: the batch's rows were not stored
        assert [v.processed_at is not None if v else "missing" for v in fresh] == [True, False]
        assert await orders.orders_by_ids([b, a]) == [fresh[1], fresh[0]]  # now both hits
        assert await one(orders, a) == fresh[0]
        assert [list(ids) for n, ids in reads.calls if n == "by_ids"] == [[a, b], [a, b]]
    finally:
        await container.aclose()
        await engine.dispose()
