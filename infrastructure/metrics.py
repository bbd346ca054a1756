"""Prometheus adapter of the Metrics port, and the /metrics exposition.

One process (embedded `serve`, tests): every instance has its own registry, so two apps in one
test process never share counts. Several processes (`serve --workers N`): the CLI sets
PROMETHEUS_MULTIPROC_DIR to a fresh directory before the workers start; prometheus-client then
keeps every value in per-process files there, and a scrape merges them all, so any worker answers
with the same totals. Queue depth is not counted but read from the broker at scrape time.
"""

from __future__ import annotations

import logging
import os
import threading
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    ProcessCollector,
    generate_latest,
    multiprocess,
)
from prometheus_client.metrics_core import Metric

from app.metrics import FIXED_OPERATION_LABELS, OTHER
from infrastructure.metrics_batch import Batched
from infrastructure.metrics_process import PoolCollector, Pools, QueueDepthCollector
from infrastructure.shared_lookups import SharedLookups

log = logging.getLogger("visapi.metrics")

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"
# Seconds. Requests and operations are usually milliseconds; jobs wait on vendors for seconds.
REQUEST_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)
JOB_BUCKETS = (0.01, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0)
GROUP_BUCKETS = (1, 2, 4, 8, 16, 32, 64)
# Operation names are chosen by clients: past this many distinct names a process labels the
# rest "other", so a client inventing names cannot grow the series without bound.
MAX_OPERATION_NAMES = 200

# (queue, state) → messages; state is ready, delayed or dead.
QueueDepths = Callable[[], Mapping[tuple[str, str], int]]


class PrometheusMetrics:
    """Implements `app.metrics.Metrics` with prometheus-client counters and histograms."""

    def __init__(self) -> None:
        # prometheus-client picks file-backed values at import when the variable is set.
        self.multiprocess_dir = os.environ.get(MULTIPROC_ENV) or None
        self.registry = CollectorRegistry()
        r = self.registry
        self._http = Histogram(
            "visapi_http_request_duration_seconds",
            "HTTP requests by route template, method and status class.",
            ["method", "route", "status"],
            buckets=REQUEST_BUCKETS,
            registry=r,
        )
        self._graphql = Histogram(
            "visapi_graphql_operation_duration_seconds",
            "GraphQL operations by operation name, type and outcome (ok or error).",
            ["operation", "type", "outcome"],
            buckets=REQUEST_BUCKETS,
            registry=r,
        )
        self._jobs = Histogram(
            "visapi_job_duration_seconds",
            "Job deliveries by actor and outcome (ok, retried, failed).",
            ["actor", "outcome"],
            buckets=JOB_BUCKETS,
            registry=r,
        )
        self._groups = Histogram(
            "visapi_job_group_size",
            "Jobs handled together as one group (app/groups.py), by actor.",
            ["actor"],
            buckets=GROUP_BUCKETS,
            registry=r,
        )
        self._hits = Counter("visapi_cache_hits", "Cache hits by prefix.", ["prefix"], registry=r)
        self._misses = Counter(
            "visapi_cache_misses", "Cache misses by prefix.", ["prefix"], registry=r
        )
        self._responses = Counter(
            "visapi_response_cache_lookups",
            "Response-cache lookups by document (its hash when sent by hash, else other) and"
            " result (hit or miss).",
            ["document", "result"],
            registry=r,
        )
        self._vendors = Histogram(
            "visapi_vendor_call_duration_seconds",
            "Vendor API calls by vendor, operation and outcome.",
            ["vendor", "operation", "outcome"],
            buckets=REQUEST_BUCKETS,
            registry=r,
        )
        self._workflows = Counter(
            "visapi_workflow_runs", "Workflow runs reaching a status.", ["status"], registry=r
        )
        # Subscriptions (app.live): gauges summed over the live processes only.
        self._live_connections = Gauge(
            "visapi_live_connections",
            "Open subscription connections by transport (ws, sse).",
            ["transport"],
            multiprocess_mode="livesum",
            registry=r,
        )
        self._live_subscriptions = Gauge(
            "visapi_live_subscriptions",
            "Active subscriptions by field.",
            ["field"],
            multiprocess_mode="livesum",
            registry=r,
        )
        self._live_fanned_out = Counter(
            "visapi_live_events_fanned_out",
            "Notices handed to local subscribers, by topic.",
            ["topic"],
            registry=r,
        )
        self._live_dropped = Counter(
            "visapi_live_events_dropped",
            "Subscribers dropped for falling behind their buffer, by topic.",
            ["topic"],
            registry=r,
        )
        self._batch = Batched()  # the request path's records (metrics_batch.py)
        self._operations: set[str] = set()
        self._lock = threading.Lock()
        self._depths: QueueDepths | None = None
        self._pools: Pools | None = None
        self._shared: SharedLookups | None = None
        if self.multiprocess_dir is None:
            r.register(QueueDepthCollector(self.queue_depths))

    # The Metrics port. The request path's records are batched; jobs', vendors' and runs' are
    # seconds apart and written at once.

    def http_request(self, method: str, route: str, status: int, seconds: float) -> None:
        batch = self._batch
        batch.observe(batch.child(self._http, (method, route, f"{status // 100}xx")), seconds)

    def graphql_operation(self, name: str, kind: str, ok: bool, seconds: float) -> None:
        if name not in self._operations and name not in FIXED_OPERATION_LABELS:
            with self._lock:
                if len(self._operations) < MAX_OPERATION_NAMES:
                    self._operations.add(name)
                else:
                    name = OTHER
        batch = self._batch
        batch.observe(batch.child(self._graphql, (name, kind, "ok" if ok else "error")), seconds)

    def job(self, actor: str, outcome: str, seconds: float) -> None:
        self._jobs.labels(actor, outcome).observe(seconds)

    def job_group(self, actor: str, size: int) -> None:
        self._groups.labels(actor).observe(size)

    def cache_lookup(self, prefix: str, hit: bool) -> None:
        batch = self._batch
        batch.inc(batch.child(self._hits if hit else self._misses, (prefix,)))
        if self._shared is not None:
            self._shared.add("cache", prefix, hit)

    def response_lookup(self, document: str, hit: bool) -> None:
        batch = self._batch
        batch.inc(batch.child(self._responses, (document, "hit" if hit else "miss")))
        if self._shared is not None:
            self._shared.add("response", document, hit)

    def share_lookups(self, shared: SharedLookups) -> None:
        """Also add every lookup to the deployment's totals (with Redis; the first caller's)."""
        if self._shared is None:
            self._shared = shared

    async def lookup_totals(self) -> tuple[dict[str, tuple[int, int]], dict[str, tuple[int, int]]]:
        """Cache lookups by prefix and response-cache lookups by document, (hits, misses):
        over every process of the deployment when shared, else this process's (and its
        `serve` siblings')."""
        if self._shared is not None:
            try:
                return await self._shared.totals()
            except Exception as exc:  # Redis away: what this process knows beats no answer
                log.warning(
                    "shared cache lookup counts unreadable, answering this process's: %r", exc
                )
        return self.cache_counts(), self.response_counts()

    def vendor_call(self, vendor: str, operation: str, outcome: str, seconds: float) -> None:
        self._vendors.labels(vendor, operation, outcome).observe(seconds)

    def workflow_run(self, status: str) -> None:
        self._workflows.labels(status).inc()

    # app.live.LiveMetrics

    def live_connections(self, transport: str, delta: int) -> None:
        self._live_connections.labels(transport).inc(delta)

    def live_subscriptions(self, field: str, delta: int) -> None:
        self._live_subscriptions.labels(field).inc(delta)

    def live_fanned_out(self, topic: str, count: int) -> None:
        self._live_fanned_out.labels(topic).inc(count)

    def live_dropped(self, topic: str) -> None:
        self._live_dropped.labels(topic).inc()

    def cache_counts(self) -> dict[str, tuple[int, int]]:
        counts: defaultdict[str, list[int]] = defaultdict(lambda: [0, 0])
        for family in self._families(self._hits, self._misses):
            index = {"visapi_cache_hits": 0, "visapi_cache_misses": 1}.get(family.name)
            if index is None:
                continue
            for sample in family.samples:
                if sample.name.endswith("_total"):
                    counts[sample.labels["prefix"]][index] += int(sample.value)
        return {prefix: (hits, misses) for prefix, (hits, misses) in sorted(counts.items())}

    def response_counts(self) -> dict[str, tuple[int, int]]:
        counts: defaultdict[str, list[int]] = defaultdict(lambda: [0, 0])
        for family in self._families(self._responses):
            if family.name != "visapi_response_cache_lookups":
                continue
            for sample in family.samples:
                if sample.name.endswith("_total"):
                    index = 0 if sample.labels["result"] == "hit" else 1
                    counts[sample.labels["document"]][index] += int(sample.value)
        return {document: (hits, misses) for document, (hits, misses) in sorted(counts.items())}

    def _families(self, *counters: Counter) -> Iterable[Metric]:
        """This process's families of `counters`, or every process's (all families) when the
        values live in files."""
        self._batch.flush()
        if self.multiprocess_dir is None:
            return [family for counter in counters for family in counter.collect()]
        merged = multiprocess.MultiProcessCollector(None, self.multiprocess_dir)  # type: ignore[no-untyped-call]
        return merged.collect()  # type: ignore[no-untyped-call,no-any-return]

    # Exposition and lifecycle.

    def watch_pools(self, pools: Pools) -> None:
        """Report these engines' pools on every scrape (and this process's CPU and memory);
        the first caller's (the API's, not its embedded worker's, which shares these metrics)."""
        if self._pools is not None:
            return
        self._pools = pools
        if self.multiprocess_dir is None:
            self.registry.register(PoolCollector(pools))
            self.registry.register(ProcessCollector(registry=None))

    def watch_queues(self, depths: QueueDepths) -> None:
        """Read queue depths with `depths` on every scrape (set once the broker exists)."""
        self._depths = depths

    def queue_depths(self) -> Mapping[tuple[str, str], int]:
        if self._depths is None:
            return {}
        try:
            return self._depths()
        except Exception as exc:  # a scrape must answer even when the broker is down
            log.warning("queue depth unavailable: %s: %s", type(exc).__name__, exc)
            return {}

    def render(self) -> tuple[bytes, str]:
        """The text exposition of every metric (blocking: the broker may be asked over Redis)."""
        self._batch.flush()
        registry = self.registry
        if self.multiprocess_dir is not None:
            registry = CollectorRegistry()
            multiprocess.MultiProcessCollector(registry, self.multiprocess_dir)  # type: ignore[no-untyped-call]
            registry.register(QueueDepthCollector(self.queue_depths))
            if self._pools is not None:  # the process answering the scrape: its own figures
                registry.register(PoolCollector(self._pools))
                registry.register(ProcessCollector(registry=None))
        return generate_latest(registry), CONTENT_TYPE_LATEST

    def retire(self) -> None:
        """At process exit: drop this process's live-gauge files (its counters stay counted)."""
        self._batch.flush()
        if self.multiprocess_dir is not None:
            multiprocess.mark_process_dead(os.getpid(), self.multiprocess_dir)  # type: ignore[no-untyped-call]
