"""A read racing an eviction never stores its stale value, on both cache backends."""

from __future__ import annotations

import asyncio
import dataclasses
import uuid
from collections.abc import Sequence
from typing import Any

from app.cache import cached, evict
from app.orders.queries import ORDER, orders_by_ids
from app.orders.views import OrderView
from app.ports import Cache
from tests.factories import order_row


class Source:
    """A read handler's data source whose next read can be held after reading, until released."""

    def __init__(self, value: Any) -> None:
        self.value = value
        self.reads = 0
        self.hold = False
        self.read_done = asyncio.Event()
        self.release = asyncio.Event()

    async def read(self) -> Any:
        self.reads += 1
        value = self.value  # read "from the database" ...
        if self.hold:  # ... then stay slow while the test writes and evicts
            self.hold = False
            self.read_done.set()
            await self.release.wait()
        return value


async def test_an_eviction_during_a_cached_compute_is_seen_by_the_next_read(cache: Cache) -> None:
    source = Source({"status": "paid"})

    @cached("orders", ttl=30, key=lambda **_: "id:1")
    async def read(*, cache: Cache | None) -> dict[str, str]:
        result: dict[str, str] = await source.read()
        return result

    source.hold = True
    racing = asyncio.create_task(read(cache=cache))
    await source.read_done.wait()
    source.value = {"status": "processed"}  # a write commits ...
    await evict(cache, "orders:*")  # ... and evicts while the read is still computing
    source.release.set()
    assert await racing == {"status": "paid"}  # the racing read answers what it read

    assert await read(cache=cache) == {"status": "processed"}  # a miss: the stale value was dropped
    assert await read(cache=cache) == {"status": "processed"}  # the fresh value is cached
    assert source.reads == 2
    assert cache.stats() == {"orders": (1, 2)}


def _view(n: int, **changes: Any) -> OrderView:
    row = order_row(n) | {"flags": []}
    return OrderView(**{f.name: row[f.name] for f in dataclasses.fields(OrderView)} | changes)


class BatchReads:
    """`OrderReads.by_ids` over a dict of views; the next call can be held as in `Source`."""

    def __init__(self, views: Sequence[OrderView]) -> None:
        self.views = {v.id: v for v in views}
        self.calls: list[list[uuid.UUID]] = []
        self.hold = False
        self.read_done = asyncio.Event()
        self.release = asyncio.Event()

    async def by_ids(self, ids: Sequence[uuid.UUID]) -> list[OrderView]:
        self.calls.append(list(ids))
        found = [self.views[id] for id in ids if id in self.views]
        if self.hold:
            self.hold = False
            self.read_done.set()
            await self.release.wait()
        return found


async def test_an_eviction_during_a_batch_fetch_is_seen_by_the_next_read(cache: Cache) -> None:
    a, b, c = _view(1), _view(2), _view(3)
    reads = BatchReads([a, b, c])

    async def batch(*ids: uuid.UUID) -> list[OrderView | None]:
        return await orders_by_ids(ids, reads=reads, cache=cache, ttl=30)  # type: ignore[arg-type]

    assert await batch(a.id) == [a]  # cached before the race: a hit in it
    reads.hold = True
    racing = asyncio.create_task(batch(a.id, b.id, c.id))
    await reads.read_done.wait()
    done = dataclasses.replace(b, processed_at=b.created_at)
    reads.views[b.id] = done  # a write commits ...
    await evict(cache, f"{ORDER}:*")  # ... and evicts while the batch query is in flight
    reads.release.set()
    assert await racing == [a, b, c]

    assert await batch(a.id, b.id, c.id) == [a, done, c]  # all misses: nothing stale was stored
    assert await batch(c.id, b.id, a.id) == [c, done, a]  # and now all hits
    assert reads.calls == [[a.id], [b.id, c.id], [a.id, b.id, c.id]]
