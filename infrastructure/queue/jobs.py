"""Publishing a job straight to the broker, without the outbox (the `Jobs` port).

The outbox makes a job durable with the change that causes it; this is for the one job written
when there is no change to commit because the database is unreachable: the recording of a
message the vendor already accepted (app/notifications/recording.py). Redis keeps it.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Mapping

import dramatiq

from app import context
from app.jobs import ActorSpec, Job, check_jobs
from infrastructure.queue.relay import to_message


class BrokerJobs:
    def __init__(self, broker: dramatiq.Broker, registry: Mapping[str, ActorSpec]) -> None:
        self._broker = broker
        self._registry = registry

    async def enqueue(self, job: Job) -> None:
        check_jobs([job], self._registry)
        message = to_message(
            uuid.uuid4(),
            job.actor,
            self._registry[job.actor].queue.value,
            job.arguments,
            context.correlation_id.get(),
        )
        # The Redis client blocks: off the event loop, as the relay publishes.
        await asyncio.to_thread(self._broker.enqueue, message)
