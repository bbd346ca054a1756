"""Local fan-out: one process's subscribers by topic, each with a bounded buffer.

Everything here runs on the API process's event loop (the hubs hand notices over with
`call_soon_threadsafe` when they arrive on another thread). Delivering never waits for a
subscriber: a notice goes into each listener's buffer, and a listener whose buffer is full is
marked dropped (its consumer stopped reading, or reads slower than notices come), so memory is
bounded by `buffer` notices per subscriber whatever a client does.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Iterable

from app.live import Dropped, LiveMetrics, Notice, Topic


class BufferedListener:
    """Implements `app.live.Listener`."""

    def __init__(self, fanout: Fanout, topic: Topic, buffer: int) -> None:
        self._fanout = fanout
        self.topic = topic
        self._buffer = buffer
        self._queue: deque[Notice] = deque()
        self._ready = asyncio.Event()
        self.dropped = False
        self.closed = False

    def offer(self, notice: Notice) -> bool:
        """False when the buffer was full: the listener is dropped, from now on."""
        if self.closed or self.dropped:
            return False
        if len(self._queue) >= self._buffer:
            self.dropped = True
            self._queue.clear()
            self._ready.set()
            return False
        self._queue.append(notice)
        self._ready.set()
        return True

    def __aiter__(self) -> BufferedListener:
        return self

    async def __anext__(self) -> Notice:
        while True:
            if self.dropped:
                raise Dropped(
                    f"more than {self._buffer} events were waiting for this subscriber; it was"
                    " dropped (read faster, or subscribe with a narrower filter)"
                )
            if self._queue:
                return self._queue.popleft()
            if self.closed:
                raise StopAsyncIteration
            self._ready.clear()
            await self._ready.wait()

    def close(self) -> None:
        if not self.closed:
            self.closed = True
            self._ready.set()
            self._fanout.forget(self)


class Fanout:
    def __init__(self, *, buffer: int, metrics: LiveMetrics | None = None) -> None:
        self.buffer = buffer
        self._metrics = metrics
        self._listeners: dict[Topic, set[BufferedListener]] = {t: set() for t in Topic}

    def listen(self, topic: Topic) -> BufferedListener:
        listener = BufferedListener(self, topic, self.buffer)
        self._listeners[topic].add(listener)
        return listener

    def forget(self, listener: BufferedListener) -> None:
        self._listeners[listener.topic].discard(listener)

    def count(self, topic: Topic | None = None) -> int:
        topics = Topic if topic is None else (topic,)
        return sum(len(self._listeners[t]) for t in topics)

    def deliver(self, notices: Iterable[Notice]) -> None:
        for notice in notices:
            listeners = self._listeners.get(notice.topic)
            if not listeners:
                continue
            handed = 0
            for listener in list(listeners):
                if listener.offer(notice):
                    handed += 1
                elif listener.dropped:
                    listeners.discard(listener)
                    if self._metrics is not None:
                        self._metrics.live_dropped(notice.topic.value)
            if handed and self._metrics is not None:
                self._metrics.live_fanned_out(notice.topic.value, handed)
