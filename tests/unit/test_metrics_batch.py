"""Batched request metrics write what prometheus-client's own calls would have written."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Histogram

from infrastructure.metrics_batch import Batched

BUCKETS = (0.005, 0.01, 0.1, 1.0)
VALUES = [0.0, 0.004, 0.005, 0.0051, 0.01, 0.5, 1.0, 7.5, 0.02]


def metrics() -> tuple[CollectorRegistry, Histogram, Counter]:
    registry = CollectorRegistry()
    histogram = Histogram("t_seconds", "t", ["route"], buckets=BUCKETS, registry=registry)
    counter = Counter("t_hits", "t", ["prefix"], registry=registry)
    return registry, histogram, counter


def test_a_flush_writes_the_same_buckets_sums_and_counts_as_direct_calls() -> None:
    direct, histogram, counter = metrics()
    for value in VALUES:
        histogram.labels("/graphql").observe(value)
    for _ in range(3):
        counter.labels("orders").inc()

    batched, histogram, counter = metrics()
    batch = Batched()
    for value in VALUES:
        batch.observe(batch.child(histogram, ("/graphql",)), value)
    for _ in range(3):
        batch.inc(batch.child(counter, ("orders",)))
    # Nothing written before the flush.
    assert batched.get_sample_value("t_seconds_count", {"route": "/graphql"}) == 0
    assert batched.get_sample_value("t_hits_total", {"prefix": "orders"}) == 0
    batch.flush()
    assert samples(batched) == samples(direct)
    assert samples(direct)[("t_seconds_count", (("route", "/graphql"),))] == len(VALUES)
    batch.flush()  # nothing pending: nothing written twice
    assert samples(batched) == samples(direct)


def samples(registry: CollectorRegistry) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """Every sample but the creation times."""
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in registry.collect()
        for s in family.samples
        if not s.name.endswith("_created")
    }
