"""Order read handlers: by id (cached per id), pages, counts, stats (cached), children by order."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from uuid import UUID

from app.cache import cached
from app.codec import decode, decoder, dumps, loads
from app.orders.side_views import ContactSyncView, NotificationView
from app.orders.views import (
    DEFAULT_SORT,
    EventView,
    Keyset,
    OrderPage,
    OrderView,
    Sort,
    StatsBucket,
    StatsGroup,
)
from app.ports import Cache, OrderReads
from domain.orders.specs import Spec, unprocessed

# Cache prefixes; the write handlers evict them by these names (app/orders/handlers.py).
ORDER = "order"
ORDERS = "orders"
ORDER_STATS = "order-stats"

# A cached entry that no longer decodes (read model changed in a deploy) is a miss.
_DECODE_ERRORS = (ValueError, TypeError, KeyError, AttributeError)


def _id_key(id: UUID, **_: object) -> str:
    return f"id:{id}"


def _spec_digest(spec: Spec | None) -> str:
    # Specs are frozen dataclasses of plain values, so their repr is canonical across processes.
    return hashlib.sha1(repr(spec).encode(), usedforsecurity=False).hexdigest()


def _stats_key(spec: Spec | None, group: StatsGroup, **_: object) -> str:
    return f"{group.value}:{_spec_digest(spec)}"


def _count_key(spec: Spec | None, **_: object) -> str:
    return f"count:{_spec_digest(spec)}"


def _unprocessed_key(first: int, **_: object) -> str:
    return f"unprocessed:{first}"


_decode_view = decoder(OrderView)


def _decode_buckets(data: bytes) -> list[StatsBucket]:
    return [decode(StatsBucket, b) for b in loads(data)]


def _decode_unprocessed_page(data: bytes) -> OrderPage:
    raw = loads(data)
    items: list[OrderView] = [decode(OrderView, v) for v in raw["items"]]
    # Keyset values lose their types in JSON; under DEFAULT_SORT they are (created_at,) + id.
    keysets = [Keyset((v.created_at,), v.id) for v in items]
    return OrderPage(items=items, keysets=keysets, has_next=bool(raw["has_next"]))


async def orders_by_ids(
    ids: Sequence[UUID], *, reads: OrderReads, cache: Cache | None, ttl: float
) -> list[OrderView | None]:
    """A DataLoader batch: cache hits per id, then one query for all the misses."""
    found: dict[UUID, OrderView] = {}
    # Each miss with the cache generation it was looked up in (None: no cache or unreachable).
    misses: dict[UUID, int | None] = {}
    for id in dict.fromkeys(ids):
        data, generation = (
            await cache.lookup(ORDER, _id_key(id)) if cache is not None else (None, None)
        )
        if data is not None:
            try:
                found[id] = _decode_view(data)
                continue
            except _DECODE_ERRORS:
                pass
        misses[id] = generation
    if misses:
        for view in await reads.by_ids(list(misses)):
            found[view.id] = view
            generation = misses.get(view.id)
            # A write that evicted `order` during the query makes this row stale: not stored.
            if cache is not None and generation is not None:
                await cache.set(ORDER, _id_key(view.id), dumps(view), ttl, generation=generation)
    return [found.get(id) for id in ids]


async def unprocessed_orders(first: int, *, reads: OrderReads, cache: Cache | None) -> OrderPage:
    """The dashboard's default list: unprocessed orders, newest first (cached briefly)."""
    return await reads.page(unprocessed(), DEFAULT_SORT, first, None)


async def count_orders(spec: Spec | None, *, reads: OrderReads, cache: Cache | None) -> int:
    """totalCount: a COUNT over every matching row, the costly part of a list (cached like the
    stats it is, and evicted with the lists by every order write)."""
    return await reads.count(spec)


async def order_stats(
    spec: Spec | None, group: StatsGroup, *, reads: OrderReads, cache: Cache | None
) -> list[StatsBucket]:
    return await reads.stats(spec, group)


class OrderQueries:
    """The order read handlers, bound to the reads and the cache: what resolvers call.

    The cache decorators are applied per instance because their TTLs are settings.
    """

    def __init__(
        self,
        reads: OrderReads,
        cache: Cache | None,
        *,
        order_ttl: float,
        stats_ttl: float,
        unprocessed_ttl: float,
    ) -> None:
        self.reads = reads
        self.cache = cache
        self._order_ttl = order_ttl
        self._stats = cached(ORDER_STATS, stats_ttl, key=_stats_key, decode=_decode_buckets)(
            order_stats
        )
        self._count = cached(ORDERS, stats_ttl, key=_count_key)(count_orders)
        self._unprocessed = cached(
            ORDERS, unprocessed_ttl, key=_unprocessed_key, decode=_decode_unprocessed_page
        )(unprocessed_orders)

    async def orders_by_ids(self, ids: Sequence[UUID]) -> list[OrderView | None]:
        return await orders_by_ids(ids, reads=self.reads, cache=self.cache, ttl=self._order_ttl)

    async def order_by_order_id(self, order_id: str) -> OrderView | None:
        return await self.reads.by_order_id(order_id)

    async def unprocessed_orders(self, first: int) -> OrderPage:
        return await self._unprocessed(first, reads=self.reads, cache=self.cache)

    async def order_page(
        self, spec: Spec | None, sort: Sequence[Sort], first: int, after: Keyset | None
    ) -> OrderPage:
        # The dashboard's default list is the one page worth caching (briefly).
        if after is None and tuple(sort) == DEFAULT_SORT and spec == unprocessed():
            return await self.unprocessed_orders(first)
        return await self.reads.page(spec, sort, first, after)

    async def count_orders(self, spec: Spec | None) -> int:
        return await self._count(spec, reads=self.reads, cache=self.cache)

    async def order_stats(self, spec: Spec | None, group: StatsGroup) -> list[StatsBucket]:
        return await self._stats(spec, group, reads=self.reads, cache=self.cache)

    async def events_for(self, ids: Sequence[UUID]) -> dict[UUID, list[EventView]]:
        return await self.reads.events_for(ids)

    async def contact_syncs_for(self, ids: Sequence[UUID]) -> dict[UUID, ContactSyncView]:
        return await self.reads.contact_syncs_for(ids)

    async def notifications_for(self, ids: Sequence[UUID]) -> dict[UUID, list[NotificationView]]:
        return await self.reads.notifications_for(ids)
