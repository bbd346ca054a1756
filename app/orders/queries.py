"""Order read handlers: by id (cached per id), pages, counts, stats (cached), children by order."""

from __future__ import annotations

import hashlib
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from functools import partial
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


async def order_by_id(id: UUID, *, reads: OrderReads, cache: Cache | None) -> OrderView | None:
    found = await reads.by_ids([id])
    return found[0] if found else None


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


async def order_by_order_id(order_id: str, *, reads: OrderReads) -> OrderView | None:
    return await reads.by_order_id(order_id)


async def unprocessed_orders(first: int, *, reads: OrderReads, cache: Cache | None) -> OrderPage:
    """The dashboard's default list: unprocessed orders, newest first (cached briefly)."""
    return await reads.page(unprocessed(), DEFAULT_SORT, first, None)


async def order_page(
    spec: Spec | None,
    sort: Sequence[Sort],
    first: int,
    after: Keyset | None,
    *,
    reads: OrderReads,
    unprocessed_page: Callable[[int], Awaitable[OrderPage]],
) -> OrderPage:
    if after is None and tuple(sort) == DEFAULT_SORT and spec == unprocessed():
        return await unprocessed_page(first)
    return await reads.page(spec, sort, first, after)


async def count_orders(spec: Spec | None, *, reads: OrderReads, cache: Cache | None) -> int:
    """totalCount: a COUNT over every matching row, the costly part of a list (cached like the
    stats it is, and evicted with the lists by every order write)."""
    return await reads.count(spec)


async def order_stats(
    spec: Spec | None, group: StatsGroup, *, reads: OrderReads, cache: Cache | None
) -> list[StatsBucket]:
    return await reads.stats(spec, group)


@dataclass(frozen=True)
class OrderQueries:
    """The order read handlers bound to their dependencies; called positionally by resolvers."""

    order_by_id: Callable[[UUID], Awaitable[OrderView | None]]
    orders_by_ids: Callable[[Sequence[UUID]], Awaitable[list[OrderView | None]]]
    order_by_order_id: Callable[[str], Awaitable[OrderView | None]]
    order_page: Callable[[Spec | None, Sequence[Sort], int, Keyset | None], Awaitable[OrderPage]]
    unprocessed_orders: Callable[[int], Awaitable[OrderPage]]
    count_orders: Callable[[Spec | None], Awaitable[int]]
    order_stats: Callable[[Spec | None, StatsGroup], Awaitable[list[StatsBucket]]]
    events_for: Callable[[Sequence[UUID]], Awaitable[dict[UUID, list[EventView]]]]
    contact_syncs_for: Callable[[Sequence[UUID]], Awaitable[dict[UUID, ContactSyncView]]]
    notifications_for: Callable[[Sequence[UUID]], Awaitable[dict[UUID, list[NotificationView]]]]


def bind_order_queries(
    reads: OrderReads,
    cache: Cache | None,
    *,
    order_ttl: float,
    stats_ttl: float,
    unprocessed_ttl: float,
) -> OrderQueries:
    """Bind the handlers; the cache decorators are applied here because TTLs are settings."""
    by_id = cached(ORDER, order_ttl, key=_id_key, decode=_decode_view)(order_by_id)
    stats = cached(ORDER_STATS, stats_ttl, key=_stats_key, decode=_decode_buckets)(order_stats)
    count = cached(ORDERS, stats_ttl, key=_count_key)(count_orders)
    unprocessed_page = partial(
        cached(ORDERS, unprocessed_ttl, key=_unprocessed_key, decode=_decode_unprocessed_page)(
            unprocessed_orders
        ),
        reads=reads,
        cache=cache,
    )
    return OrderQueries(
        order_by_id=partial(by_id, reads=reads, cache=cache),
        orders_by_ids=partial(orders_by_ids, reads=reads, cache=cache, ttl=order_ttl),
        order_by_order_id=partial(order_by_order_id, reads=reads),
        order_page=partial(order_page, reads=reads, unprocessed_page=unprocessed_page),
        unprocessed_orders=unprocessed_page,
        count_orders=partial(count, reads=reads, cache=cache),
        order_stats=partial(stats, reads=reads, cache=cache),
        events_for=reads.events_for,
        contact_syncs_for=reads.contact_syncs_for,
        notifications_for=reads.notifications_for,
    )
