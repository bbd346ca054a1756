"""This process's subscriptions: the per-caller cap and gauges, the reads subscribers share (an
order a notice names, read once per process), and the one queue poller behind queueStats."""

from __future__ import annotations

import asyncio
from collections import OrderedDict
from collections.abc import AsyncGenerator, Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime
from functools import partial
from uuid import UUID

from app.live import Hub, LiveMetrics, Notice
from app.orders.views import OrderView
from app.queues.queries import QueueStatsView
from domain.auth.permissions import Principal
from graph.errors import CodedError

LIMIT = "SUBSCRIPTION_LIMIT"
QUEUE_POLL_S = 1.0  # queueStats: the figures are read this often, pushed only when they change
SHARED_ORDERS = 256  # notices whose order reads are kept for the subscribers still behind


@dataclass
class Subscribers:
    """This process's subscriptions: the per-caller cap, the gauges, the shared reads."""

    hub: Hub
    per_caller: int
    metrics: LiveMetrics | None = None
    _by_caller: dict[UUID, int] = field(default_factory=dict)
    _orders: OrderedDict[tuple[str, str, datetime], asyncio.Future[OrderView | None]] = field(
        default_factory=OrderedDict
    )
    _queues: QueueWatch | None = None

    def enter(self, principal: Principal, name: str) -> None:
        held = self._by_caller.get(principal.id, 0)
        if held >= self.per_caller:
            raise CodedError(
                f"This caller holds {held} subscriptions in this process, the most it may"
                " (VISAPI_SUBSCRIPTIONS_PER_CALLER); complete one first.",
                LIMIT,
                limit=self.per_caller,
            )
        self._by_caller[principal.id] = held + 1
        if self.metrics is not None:
            self.metrics.live_subscriptions(name, 1)

    def leave(self, principal: Principal, name: str) -> None:
        held = self._by_caller.get(principal.id, 0) - 1
        if held > 0:
            self._by_caller[principal.id] = held
        else:
            self._by_caller.pop(principal.id, None)
        if self.metrics is not None:
            self.metrics.live_subscriptions(name, -1)

    async def order(
        self, notice: Notice, read: Callable[[UUID], Awaitable[OrderView | None]]
    ) -> OrderView | None:
        """The order a notice names, read once per process however many subscribers hear it."""
        key = (notice.subject, notice.kind, notice.at)
        shared = self._orders.get(key)
        if shared is None:
            shared = asyncio.ensure_future(read(UUID(notice.subject)))
            self._orders[key] = shared
            while len(self._orders) > SHARED_ORDERS:
                self._orders.popitem(last=False)
        return await asyncio.shield(shared)

    def queues(self, read: Callable[[], Awaitable[list[QueueStatsView]]]) -> QueueWatch:
        if self._queues is None:
            self._queues = QueueWatch(read)
        return self._queues


class QueueWatch:
    """One poller per process for every queueStats subscriber, running while any listens."""

    def __init__(self, read: Callable[[], Awaitable[list[QueueStatsView]]]) -> None:
        self._read = read
        self._latest: list[QueueStatsView] | None = None
        self._changed = asyncio.Condition()
        self._watchers = 0
        self._task: asyncio.Task[None] | None = None

    async def watch(self) -> AsyncGenerator[list[QueueStatsView], None]:
        self._watchers += 1
        if self._task is None or self._task.done():
            self._task = asyncio.get_running_loop().create_task(self._poll())
        try:
            seen: list[QueueStatsView] | None = None
            while True:
                async with self._changed:
                    await self._changed.wait_for(partial(self._newer_than, seen))
                    seen = self._latest
                assert seen is not None
                yield seen  # a slow reader skips figures, never queues them
        finally:
            self._watchers -= 1
            if self._watchers == 0 and self._task is not None:
                self._task.cancel()
                self._task = None
                self._latest = None

    def _newer_than(self, seen: list[QueueStatsView] | None) -> bool:
        return self._latest is not None and self._latest is not seen

    async def _poll(self) -> None:
        while True:
            try:
                figures = await self._read()
            except Exception:  # the broker is away: say nothing new until it is back
                figures = None
            if figures is not None and figures != self._latest:
                async with self._changed:
                    self._latest = figures
                    self._changed.notify_all()
            await asyncio.sleep(QUEUE_POLL_S)
