"""What /metrics reads at scrape time beside the application's counts: this process's database
pools (size, connections checked out, overflow beyond the size, waits), the job queues' depths
(from the broker), and the usual process figures (CPU, memory, file descriptors) from
prometheus-client's ProcessCollector."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

from prometheus_client.metrics_core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from sqlalchemy.ext.asyncio import AsyncEngine

Pools = Callable[[], Mapping[str, AsyncEngine]]


class PoolCollector(Collector):
    """`visapi_db_pool_connections{engine, state}`: state `size` (kept open at most),
    `checked_out` (in use now), `overflow` (open beyond the size, up to max_overflow); and
    `visapi_db_pool_waits` / `visapi_db_pool_wait_seconds{engine}`: checkouts that found every
    connection in use and waited for one, and how long they waited in all (CountedPool)."""

    def __init__(self, pools: Pools) -> None:
        self._pools = pools

    def describe(self) -> list[Any]:
        return []

    def collect(self) -> Iterable[Metric]:
        family = GaugeMetricFamily(
            "visapi_db_pool_connections",
            "This process's database connections by engine (primary, replica) and state:"
            " size, checked_out, overflow.",
            labels=["engine", "state"],
        )
        waits = CounterMetricFamily(
            "visapi_db_pool_waits",
            "Checkouts of this process that waited for a free database connection, by engine.",
            labels=["engine"],
        )
        waited = CounterMetricFamily(
            "visapi_db_pool_wait_seconds",
            "Time this process's checkouts spent waiting for a free connection, by engine.",
            labels=["engine"],
        )
        for name, engine in sorted(self._pools().items()):
            pool: Any = engine.sync_engine.pool
            if hasattr(pool, "waited_s"):
                waits.add_metric([name], pool.waits)
                waited.add_metric([name], pool.waited_s)
            for state, read in (
                ("size", "size"),
                ("checked_out", "checkedout"),
                ("overflow", "overflow"),
            ):
                method = getattr(pool, read, None)
                if method is not None:  # NullPool (SQLite files in tests) has none of them
                    family.add_metric([name, state], max(0, int(method())))
        yield family
        yield waits
        yield waited


class QueueDepthCollector(Collector):
    """`visapi_queue_depth{queue, state}`, asked of the broker at each scrape."""

    def __init__(self, depths: Callable[[], Mapping[tuple[str, str], int]]) -> None:
        self._depths = depths

    def describe(self) -> list[Any]:
        return []  # nothing to check at registration; collect() asks the broker

    def collect(self) -> Iterable[Metric]:
        family = GaugeMetricFamily(
            "visapi_queue_depth",
            "Messages waiting in each job queue: ready, delayed (retry backoff) or dead.",
            labels=["queue", "state"],
        )
        for (queue, state), count in sorted(self._depths().items()):
            family.add_metric([queue, state], count)
        yield family
