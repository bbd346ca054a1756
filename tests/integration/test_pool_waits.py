"""`visapi_db_pool_waits`: checkouts that found every PostgreSQL connection in use."""

from __future__ import annotations

import asyncio

from prometheus_client.exposition import generate_latest
from prometheus_client.parser import text_string_to_metric_families
from prometheus_client.registry import CollectorRegistry

from infrastructure.db.engine import create_engine
from infrastructure.metrics_process import PoolCollector


def exported(collector: PoolCollector) -> dict[str, float]:
    registry = CollectorRegistry()
    registry.register(collector)
    text = generate_latest(registry).decode()
    return {
        sample.name: sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
        if sample.name.startswith("visapi_db_pool_wait")
    }


async def test_a_checkout_waiting_for_a_busy_pool_is_counted(postgres_url: str) -> None:
    engine = create_engine(postgres_url, pool_size=1)
    collector = PoolCollector(lambda: {"primary": engine})
    try:
        async with engine.connect():
            pass  # the pool's one connection exists and is idle: taking it is no wait
        assert exported(collector) == {
            "visapi_db_pool_waits_total": 0.0,
            "visapi_db_pool_wait_seconds_total": 0.0,
        }
        held = await engine.connect()

        async def checkout() -> None:
            async with engine.connect():
                pass

        second = asyncio.create_task(checkout())
        await asyncio.sleep(0.1)
        assert not second.done()  # every connection is in use: it waits
        await held.close()
        await second
        figures = exported(collector)
        assert figures["visapi_db_pool_waits_total"] == 1.0
        assert figures["visapi_db_pool_wait_seconds_total"] > 0
    finally:
        await engine.dispose()
