"""Per-request DataLoaders: every `load` in one execution tick becomes one batched read."""

from __future__ import annotations

from asyncio import Future
from functools import cached_property
from uuid import UUID

from aiodataloader import DataLoader

from app.orders.queries import OrderQueries
from app.orders.side_views import ContactSyncView, NotificationView
from app.orders.views import EventView, OrderView

# Keeps one IN (...) list well below SQLite's bound-parameter limit (32,766).
MAX_BATCH = 500


class Loaders:
    """Built per request (see graph.context): a loader's memo must not outlive a request.

    Each loader is created on first use, inside the running event loop that aiodataloader
    binds it to, and only for the children a query actually selects.
    """

    def __init__(self, orders: OrderQueries) -> None:
        self._orders = orders
        # The events loader's memo, ours so that a settled answer can be read without awaiting.
        self._events_memo: dict[UUID, Future[list[EventView]]] = {}

    @cached_property
    def order_by_id(self) -> DataLoader[UUID, OrderView | None]:
        return DataLoader(self._by_ids, max_batch_size=MAX_BATCH)

    @cached_property
    def events_by_order(self) -> DataLoader[UUID, list[EventView]]:
        return DataLoader(self._events, max_batch_size=MAX_BATCH, cache_map=self._events_memo)

    def events_loaded(self, order_id: UUID) -> list[EventView] | None:
        """The order's events if this request has loaded them already (a page of orders loads
        its events in one batch before it completes), else None: then `load` them.

        Read synchronously, a page's 50 `events` fields cost no task, future or await each.
        """
        future = self._events_memo.get(order_id)
        if future is None or not future.done() or future.cancelled() or future.exception():
            return None
        return future.result()

    @cached_property
    def contact_sync_by_order(self) -> DataLoader[UUID, ContactSyncView | None]:
        return DataLoader(self._contact_syncs, max_batch_size=MAX_BATCH)

    @cached_property
    def notifications_by_order(self) -> DataLoader[UUID, list[NotificationView]]:
        return DataLoader(self._notifications, max_batch_size=MAX_BATCH)

    async def _by_ids(self, ids: list[UUID]) -> list[OrderView | None]:
        # The handler serves cache hits per id and fetches only the misses, in one query.
        return await self._orders.orders_by_ids(ids)

    async def _events(self, ids: list[UUID]) -> list[list[EventView]]:
        found = await self._orders.events_for(ids)
        return [found.get(i, []) for i in ids]

    async def _contact_syncs(self, ids: list[UUID]) -> list[ContactSyncView | None]:
        found = await self._orders.contact_syncs_for(ids)
        return [found.get(i) for i in ids]

    async def _notifications(self, ids: list[UUID]) -> list[list[NotificationView]]:
        found = await self._orders.notifications_for(ids)
        return [found.get(i, []) for i in ids]
