"""Dramatiq broker setup: Redis in production, StubBroker embedded; actors bound at start."""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Awaitable, Mapping
from typing import Any, Protocol

import dramatiq
import redis
from dramatiq.asyncio import get_event_loop_thread
from dramatiq.brokers.redis import RedisBroker
from dramatiq.brokers.stub import StubBroker
from dramatiq.middleware import AsyncIO, CurrentMessage, Middleware, TimeLimit

from app import context
from app.actors import JobSettings
from app.bus import MessageBus
from app.jobs import ActorSpec, Queue
from app.metrics import NO_METRICS, Metrics
from infrastructure.queue.dead_letters import DeadLetters
from infrastructure.queue.maintenance import MaintainedRedisBroker
from infrastructure.queue.metrics import JobMetrics
from infrastructure.queue.retries import RetryPolicy
from infrastructure.queue.throughput import CountSink, JobCounters, MemoryCounts, RedisCounts


class BrokerSettings(JobSettings, Protocol):
    @property
    def redis_url(self) -> str | None: ...

    @property
    def redis_namespace(self) -> str: ...

    @property
    def job_heartbeat_timeout_ms(self) -> int: ...

    @property
    def job_maintenance_chance(self) -> int: ...

    @property
    def job_dead_message_ttl_ms(self) -> int: ...

    @property
    def job_max_deferrals(self) -> int: ...


def middleware(
    settings: BrokerSettings, counts: CountSink, metrics: Metrics = NO_METRICS
) -> list[Middleware]:
    """The middleware stack, in order. `after_*` hooks run in reverse order, so JobMetrics,
    DeadLetters and JobCounters, listed first, see a message after RetryPolicy has decided to
    fail it, and after TimeLimit has disarmed the timer (its database write cannot be
    interrupted by the actor's time limit)."""
    return [
        JobMetrics(metrics),
        DeadLetters(),
        JobCounters(counts),
        TimeLimit(time_limit=settings.job_time_limit_ms),
        AsyncIO(),
        CurrentMessage(),
        RetryPolicy(
            max_retries=settings.job_max_retries,
            min_backoff=settings.job_min_backoff_ms,
            max_backoff=settings.job_max_backoff_ms,
            max_deferrals=settings.job_max_deferrals,
        ),
    ]


class InMemoryMessages(Middleware):
    """Tracks StubBroker messages not yet acknowledged, by id.

    The StubBroker's queues die with the process, so on a clean stop the embedded worker hands
    these ids back to the outbox (as unpublished) for the next start to publish again. A retry
    is enqueued before its failed delivery is acknowledged, so a count per id stays above zero
    for as long as any copy of the message is waiting, in a queue or a backoff.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._counts: Counter[str] = Counter()

    def after_enqueue(self, broker: dramatiq.Broker, message: Any, delay: int | None) -> None:
        with self._lock:
            self._counts[message.message_id] += 1

    def after_ack(self, broker: dramatiq.Broker, message: Any) -> None:
        with self._lock:
            self._counts[message.message_id] -= 1
            if self._counts[message.message_id] <= 0:
                del self._counts[message.message_id]

    after_nack = after_ack

    def pending_ids(self) -> list[str]:
        with self._lock:
            return list(self._counts)


def create_broker(settings: BrokerSettings, metrics: Metrics = NO_METRICS) -> dramatiq.Broker:
    """RedisBroker when `redis_url` is set, else an in-process StubBroker. Connects lazily."""
    broker: dramatiq.Broker
    if settings.redis_url:
        # Our client rather than the broker's own, so the counters share its pool.
        client = redis.Redis(connection_pool=redis.ConnectionPool.from_url(settings.redis_url))
        counts = RedisCounts(client, settings.redis_namespace)
        # Its maintenance also runs on a timer in workers and schedulers (maintenance.py).
        broker = MaintainedRedisBroker(
            client=client,
            namespace=settings.redis_namespace,
            middleware=middleware(settings, counts, metrics),
            heartbeat_timeout=settings.job_heartbeat_timeout_ms,
            maintenance_chance=settings.job_maintenance_chance,
            dead_message_ttl=settings.job_dead_message_ttl_ms,
        )
    else:
        # join() in tests must not re-raise actor errors by default: failures are asserted
        # on rows (failed_jobs, contact_syncs), and embedded serve never joins.
        broker = StubBroker(
            middleware=[*middleware(settings, MemoryCounts(), metrics), InMemoryMessages()],
            fail_fast_default=False,
        )
    for queue in Queue:
        broker.declare_queue(queue.value)
    return broker


def in_memory_messages(broker: dramatiq.Broker) -> InMemoryMessages | None:
    """The tracker of a StubBroker made by `create_broker`; None for a durable broker."""
    return next((m for m in broker.middleware if isinstance(m, InMemoryMessages)), None)


def job_counts_of(broker: dramatiq.Broker) -> CountSink:
    """Where the broker's JobCounters count (installed by `create_broker`)."""
    for m in broker.middleware:
        if isinstance(m, JobCounters):
            return m.sink
    raise LookupError("broker has no JobCounters middleware; build it with create_broker")


def close_broker(broker: dramatiq.Broker) -> None:
    """Release the broker's connections (RedisBroker keeps a pool it does not close itself)."""
    broker.close()
    if isinstance(broker, RedisBroker):
        broker.client.connection_pool.disconnect()


def _actor_options(spec: ActorSpec) -> dict[str, Any]:
    options: dict[str, Any] = {"max_retries": spec.max_retries, "time_limit": spec.time_limit_ms}
    # None means "the broker's Retries default"; passing None through would break the backoff.
    if spec.min_backoff_ms is not None:
        options["min_backoff"] = spec.min_backoff_ms
    if spec.max_backoff_ms is not None:
        options["max_backoff"] = spec.max_backoff_ms
    return {**options, **spec.options}


async def _in_job(message: dramatiq.Message[Any] | None, work: Awaitable[None]) -> None:
    if message is not None:
        context.correlation_id.set(message.options.get("correlation_id"))
        context.job_id.set(message.message_id)
    await work


def register_actors(
    broker: dramatiq.Broker, bus: MessageBus, registry: Mapping[str, ActorSpec]
) -> dict[str, dramatiq.Actor[..., None]]:
    """Bind every registry entry to `bus` as an async actor on `broker` (never a global broker)."""
    actors: dict[str, dramatiq.Actor[..., None]] = {}
    for spec in registry.values():

        def run(*, _spec: ActorSpec = spec, **kwargs: Any) -> None:
            # What dramatiq's async_to_sync does, plus the message's ids: they are read here,
            # on the worker thread that holds the current message, and set inside the task
            # on the event loop, where the handler's logs are written.
            message = CurrentMessage.get_current_message()
            loop_thread = get_event_loop_thread()
            if loop_thread is None:
                raise RuntimeError("async actors need the AsyncIO middleware")
            loop_thread.run_coroutine(_in_job(message, _spec.handler(bus, **kwargs)))

        run.__name__ = run.__qualname__ = spec.name
        bind = dramatiq.actor(
            broker=broker,
            actor_name=spec.name,
            queue_name=spec.queue.value,
            **_actor_options(spec),
        )
        actors[spec.name] = bind(run)
    return actors
