"""Dramatiq timings as settings: malformed values stop the start, and they reach the broker."""

from __future__ import annotations

import pytest
from dramatiq.brokers.redis import RedisBroker

from infrastructure.queue.broker import close_broker, create_broker
from visapi.settings import SettingsError, load_settings


@pytest.mark.parametrize(
    ("environ", "named"),
    [
        ({"VISAPI_JOB_HEARTBEAT_TIMEOUT_MS": "0"}, "VISAPI_JOB_HEARTBEAT_TIMEOUT_MS"),
        ({"VISAPI_JOB_MAINTENANCE_CHANCE": "0"}, "VISAPI_JOB_MAINTENANCE_CHANCE"),
        ({"VISAPI_JOB_MAINTENANCE_CHANCE": "1000001"}, "VISAPI_JOB_MAINTENANCE_CHANCE"),
        ({"VISAPI_JOB_GROUP_SIZE": "0"}, "VISAPI_JOB_GROUP_SIZE"),
        ({"VISAPI_JOB_GROUP_SIZE": "many"}, "VISAPI_JOB_GROUP_SIZE"),
    ],
)
def test_malformed_job_settings_stop_the_start(environ: dict[str, str], named: str) -> None:
    with pytest.raises(SettingsError, match=named):
        load_settings(environ)


def test_the_requeue_timings_reach_the_redis_broker() -> None:
    settings = load_settings(
        {
            "VISAPI_REDIS_URL": "redis://127.0.0.1:1/0",  # never connected: brokers are lazy
            "VISAPI_JOB_HEARTBEAT_TIMEOUT_MS": "4000",
            "VISAPI_JOB_MAINTENANCE_CHANCE": "1000000",
        }
    )
    broker = create_broker(settings)
    try:
        assert isinstance(broker, RedisBroker)
        assert (broker.heartbeat_timeout, broker.maintenance_chance) == (4000, 1_000_000)
    finally:
        close_broker(broker)
