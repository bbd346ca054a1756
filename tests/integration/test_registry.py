"""Every actor of the registry, written through the outbox, is consumed by a real worker.

The reference's producers and consumers drifted apart (digest §11.2): jobs were queued under
names no worker read. Here each registry entry is sent the way production sends it (a unit
of work writes the outbox row, the relay publishes it after commit) and a Dramatiq Worker
must run it without error, on the StubBroker and on a RedisBroker.
"""

from __future__ import annotations

import threading
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import dramatiq
import pytest
from dramatiq.middleware import Middleware
from sqlalchemy import select

from app.jobs import Job
from domain.events import DomainEvent
from infrastructure.cache.memory import MemoryCache
from infrastructure.db.tables import failed_jobs, outbox
from infrastructure.db.uow import SqlUnitOfWork
from infrastructure.queue.broker import create_broker
from tests.integration.workers import drop_namespace, redis_settings, worker_on
from tests.waiting import eventually
from visapi.bootstrap import bootstrap
from visapi.settings import Settings

# One valid message per actor. Handlers acknowledge ids they do not know, so unknown ids make
# samples that need no data. An actor missing here fails the test: add its sample.
SAMPLE_ARGUMENTS: dict[str, dict[str, Any]] = {
    "sync_contact": {"order_id": str(uuid.uuid4())},
    "send_notification": {"notification_id": str(uuid.uuid4())},
    "run_workflow": {"run_id": str(uuid.uuid4())},
    "record_notification_sent": {
        "notification_id": str(uuid.uuid4()),
        "claim_token": "a-token",
        "provider_message_id": None,
    },
    "run_bulk_batch": {"operation_id": str(uuid.uuid4()), "position": 0},
    "run_maintenance": {"task": "prune_schedule_ticks"},
}


@dataclass(frozen=True, kw_only=True)
class Probe(DomainEvent):
    type = "test.probe"
    aggregate_type = "test"


class Processed(Middleware):
    """What the worker finished: message id → (actor, error or None)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.done: dict[str, tuple[str, str | None]] = {}

    def after_process_message(
        self, broker: dramatiq.Broker, message: Any, *, result: Any = None, exception: Any = None
    ) -> None:
        with self._lock:
            self.done[message.message_id] = (
                message.actor_name,
                repr(exception) if exception else None,
            )


@pytest.mark.parametrize("broker_kind", ["stub", "redis"])
async def test_every_registry_actor_goes_through_the_outbox_to_a_worker(
    settings: Settings, broker_kind: str, request: pytest.FixtureRequest
) -> None:
    if broker_kind == "redis":
        settings = redis_settings(settings, request.getfixturevalue("redis_url"))
    broker = create_broker(settings)
    processed = Processed()
    broker.add_middleware(processed)
    api = bootstrap(settings, broker=broker, cache=MemoryCache())
    try:
        missing = sorted(set(api.registry) - set(SAMPLE_ARGUMENTS))
        assert not missing, f"no sample arguments for actor(s) {missing}: add them above"
        jobs = [Job(name, SAMPLE_ARGUMENTS[name]) for name in api.registry]
        unit = SqlUnitOfWork(
            api.engine,
            jobs_for=lambda event: jobs if isinstance(event, Probe) else [],
            registry=api.registry,
            after_commit=[api.relay.publish_committed],
        )
        with worker_on(broker, settings):
            async with unit:
                unit.record([Probe(aggregate_id=uuid.uuid4(), occurred_at=datetime.now(UTC))])
                await unit.commit()
            await api.relay.flush()  # the fast path publishes in the background
            async with api.engine.connect() as conn:
                sent = (await conn.execute(select(outbox))).all()
            assert sorted(r.actor for r in sent) == sorted(api.registry)
            assert all(r.published_at is not None for r in sent)
            for r in sent:
                assert r.queue == api.registry[r.actor].queue.value
            await eventually(
                lambda: {str(r.id) for r in sent} <= set(processed.done),
                why=lambda: f"not consumed: {processed.done}",
            )
        assert {str(r.id): (r.actor, None) for r in sent} == processed.done
        async with api.engine.connect() as conn:
            assert (await conn.execute(select(failed_jobs))).all() == []
    finally:
        await api.aclose()
        if broker_kind == "redis":
            drop_namespace(broker, settings)
