"""Queue gauges: depth, delayed and in-flight messages read from the broker, plus throughput.

Redis (Dramatiq's key layout, dramatiq/brokers/redis/dispatch.lua), for a queue `q` under
the namespace `ns`:
- `ns:q` is the list of ready message ids; `ns:q.msgs` the hash of every message of `q` not
  yet acknowledged, ready or fetched. Fetched ids also sit in the fetching worker's ack set
  `ns:__acks__.<worker>.q` until acked, so in flight = HLEN(ns:q.msgs) - LLEN(ns:q): the same
  number as the sum of those ack sets, without scanning for them.
- `ns:q.DQ.msgs` holds every delayed message (retries, deferrals) until its time comes,
  whether still in the `ns:q.DQ` list or fetched and held by a worker until its eta.
All three are read in one MULTI, so they describe one instant.

StubBroker: `queues[q]` and `queues[q.DQ]` are `queue.Queue`s; a message counts as
unfinished from `put` until the worker acknowledges it (`task_done`).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import Protocol

import redis.asyncio
from dramatiq.brokers.stub import StubBroker
from dramatiq.common import dq_name

from app.queues.ports import QueueDepth, Throughput
from infrastructure.queue.broker import job_counts_of
from infrastructure.queue.throughput import MemoryCounts, RedisCountReader


class CountReader(Protocol):
    async def window(
        self, window_s: int, queues: Sequence[str], now: float
    ) -> dict[str, Throughput]: ...


class RedisQueueGauges:
    def __init__(
        self,
        client: redis.asyncio.Redis,
        namespace: str,
        counts: CountReader,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._client = client
        self._namespace = namespace
        self._counts = counts
        self._clock = clock

    async def depths(self, queues: Sequence[str]) -> dict[str, QueueDepth]:
        pipe = self._client.pipeline(transaction=True)
        for q in queues:
            name = f"{self._namespace}:{q}"
            pipe.llen(name)
            pipe.hlen(f"{name}.msgs")
            pipe.hlen(f"{self._namespace}:{dq_name(q)}.msgs")
        values = [int(v) for v in await pipe.execute()]
        depths = {}
        for i, q in enumerate(queues):
            ready, unacked, delayed = values[3 * i : 3 * i + 3]
            depths[q] = QueueDepth(ready=ready, delayed=delayed, in_flight=max(0, unacked - ready))
        return depths

    async def throughput(self, window_s: int, queues: Sequence[str]) -> dict[str, Throughput]:
        return await self._counts.window(window_s, queues, self._clock())


class StubQueueGauges:
    """The embedded broker's queues, read in the process that holds them."""

    def __init__(
        self, broker: StubBroker, counts: CountReader, clock: Callable[[], float] = time.time
    ) -> None:
        self._broker = broker
        self._counts = counts
        self._clock = clock

    async def depths(self, queues: Sequence[str]) -> dict[str, QueueDepth]:
        depths = {}
        for q in queues:
            ready_q, delayed_q = self._broker.queues[q], self._broker.queues[dq_name(q)]
            ready = ready_q.qsize()
            depths[q] = QueueDepth(
                ready=ready,
                delayed=delayed_q.unfinished_tasks,
                in_flight=max(0, ready_q.unfinished_tasks - ready),
            )
        return depths

    async def throughput(self, window_s: int, queues: Sequence[str]) -> dict[str, Throughput]:
        return await self._counts.window(window_s, queues, self._clock())


def queue_gauges(
    broker: object, namespace: str, client: redis.asyncio.Redis | None
) -> RedisQueueGauges | StubQueueGauges:
    """The gauges of a broker made by `create_broker`: Redis needs the API's asyncio client."""
    if isinstance(broker, StubBroker):
        try:
            counts = job_counts_of(broker)
        except LookupError:
            counts = MemoryCounts()  # a bare StubBroker (tests): depths only, no counts
        if not isinstance(counts, MemoryCounts):
            raise TypeError("a StubBroker counts in memory")
        return StubQueueGauges(broker, counts)
    if client is None:
        raise ValueError("reading a Redis broker's queues needs an asyncio Redis client")
    return RedisQueueGauges(client, namespace, RedisCountReader(client, namespace))
