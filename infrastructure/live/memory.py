"""The embedded mode's feed and hub in one: notices go straight to this process's subscribers.

Publishers may run on another thread (the embedded worker has its own event loop): their
notices are handed to the API loop, the one subscribers listen on, never delivered from the
publisher's thread.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Sequence

from app.live import LiveMetrics, Notice, Topic
from infrastructure.live.fanout import BufferedListener, Fanout


class MemoryLive:
    """Implements `app.live.Feed` and `app.live.Hub` in one process."""

    def __init__(self, *, buffer: int, metrics: LiveMetrics | None = None) -> None:
        self.fanout = Fanout(buffer=buffer, metrics=metrics)
        self._loop: asyncio.AbstractEventLoop | None = None

    def listen(self, topic: Topic) -> BufferedListener:
        self._loop = asyncio.get_running_loop()
        return self.fanout.listen(topic)

    async def publish(self, notices: Sequence[Notice]) -> None:
        loop = self._loop
        if loop is None or not notices:
            return  # nobody has ever listened here
        try:
            running = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if running is loop:
            self.fanout.deliver(notices)
            return
        with contextlib.suppress(RuntimeError):  # the API loop has closed: nobody listens
            loop.call_soon_threadsafe(self.fanout.deliver, list(notices))

    async def aclose(self) -> None:
        pass
