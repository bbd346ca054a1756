"""cacheStats over every process of a deployment: each process's lookups are added to one
Redis hash (infrastructure/shared_lookups.py), read back summed."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import replace

import pytest
import redis

from infrastructure.metrics import PrometheusMetrics
from infrastructure.shared_lookups import SharedLookups
from visapi.bootstrap import bootstrap
from visapi.settings import Settings


@pytest.fixture
def namespace(redis_url: str) -> Iterator[str]:
    name = f"visapi_test_{uuid.uuid4().hex[:10]}"
    yield name
    client = redis.Redis.from_url(redis_url)
    keys = list(client.scan_iter(match=f"{name}:*"))
    if keys:
        client.delete(*keys)
    client.close()


def process(redis_url: str, namespace: str) -> PrometheusMetrics:
    """The metrics of one process of the deployment (its own registry, its own counts)."""
    metrics = PrometheusMetrics()
    metrics.share_lookups(SharedLookups(redis.Redis.from_url(redis_url), namespace))
    return metrics


async def test_lookups_of_two_processes_are_summed(redis_url: str, namespace: str) -> None:
    api, worker = process(redis_url, namespace), process(redis_url, namespace)
    for _ in range(3):
        api.cache_lookup("orders", True)
    api.cache_lookup("orders", False)
    worker.cache_lookup("orders", False)
    worker.cache_lookup("workflows-enabled", True)
    worker.response_lookup("abc123", True)
    api.response_lookup("other", False)
    # Each process still counts its own share for Prometheus.
    assert api.cache_counts() == {"orders": (3, 1)}
    # The reading process adds its own share first; the worker's arrive with its flush (the
    # flusher thread's, every second: called here to make the test independent of timing).
    worker._shared.flush()  # type: ignore[union-attr]
    cache, responses = await api.lookup_totals()
    assert cache == {"orders": (3, 2), "workflows-enabled": (1, 0)}
    assert responses == {"abc123": (1, 0), "other": (0, 1)}
    # Read from the other process: the same totals.
    assert await worker.lookup_totals() == (cache, responses)


async def test_redis_away_keeps_the_counts_for_later(redis_url: str, namespace: str) -> None:
    away = SharedLookups(
        redis.Redis(host="127.0.0.1", port=1, socket_connect_timeout=0.2), namespace
    )
    away.add("cache", "orders", True)
    away.flush()  # logged, not raised, and kept
    away.add("cache", "orders", True)
    # The same counts flushed later (the client is pointed back at Redis, as after an outage).
    away._client = redis.Redis.from_url(redis_url)
    away.flush()
    cache, _ = await away.totals()
    assert cache == {"orders": (2, 0)}


async def test_reading_with_redis_away_answers_this_process_counts(namespace: str) -> None:
    metrics = PrometheusMetrics()
    client = redis.Redis(host="127.0.0.1", port=1, socket_connect_timeout=0.2)
    metrics.share_lookups(SharedLookups(client, namespace))
    metrics.cache_lookup("orders", True)
    cache, responses = await metrics.lookup_totals()
    assert (cache, responses) == ({"orders": (1, 0)}, {})


async def test_a_deployment_with_redis_shares_its_lookups(
    settings: Settings, redis_url: str, namespace: str
) -> None:
    configured = replace(settings, redis_url=redis_url, redis_namespace=namespace)
    one, two = bootstrap(configured), bootstrap(configured, metrics=PrometheusMetrics())
    try:
        one.metrics.cache_lookup("orders", True)
        two.metrics.cache_lookup("orders", True)
        two.metrics._shared.flush()  # type: ignore[union-attr]
        cache, _ = await one.metrics.lookup_totals()
        assert cache["orders"] == (2, 0)
    finally:
        await one.aclose()
        await two.aclose()
