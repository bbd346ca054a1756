"""Workers for job tests: a real Dramatiq Worker on a broker from `create_broker`, scripted
test actors bound next to the registry's, and an observer of what the broker is handed."""

from __future__ import annotations

import asyncio
import dataclasses
import threading
import uuid
from collections import defaultdict, deque
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

import dramatiq
from dramatiq.middleware import Middleware

from app.bus import MessageBus
from app.jobs import ActorSpec, Queue
from infrastructure.cache.memory import MemoryCache
from infrastructure.queue.broker import close_broker
from infrastructure.vendors.sandbox import SandboxContactSync
from visapi.bootstrap import Container, bootstrap
from visapi.settings import Settings
from visapi.worker import EmbeddedWorker


def fast(settings: Settings, **changes: Any) -> Settings:
    """Small Dramatiq timings so retries take milliseconds."""
    values: dict[str, Any] = {"job_min_backoff_ms": 10, "job_max_backoff_ms": 40, **changes}
    return dataclasses.replace(settings, **values)


def redis_settings(settings: Settings, redis_url: str) -> Settings:
    """The same database, a RedisBroker in a namespace of this test's own."""
    namespace = f"visapi-test-{uuid.uuid4().hex[:12]}"
    return dataclasses.replace(settings, redis_url=redis_url, redis_namespace=namespace)


def drop_namespace(broker: dramatiq.Broker, settings: Settings) -> None:
    client = getattr(broker, "client", None)
    if client is not None:
        keys = client.keys(f"{settings.redis_namespace}:*")
        if keys:
            client.delete(*keys)
    close_broker(broker)


class Script:
    """What the scripted actor raises, per key, in order; it succeeds once a key runs dry."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._plans: dict[str, deque[BaseException]] = defaultdict(deque)
        self.runs: dict[str, int] = defaultdict(int)

    def plan(self, key: str, *raises: BaseException) -> None:
        self._plans[key].extend(raises)

    def always(self, key: str, exc: BaseException, times: int = 1000) -> None:
        self._plans[key].extend([exc] * times)

    async def run(self, bus: MessageBus, *, key: str) -> None:
        with self._lock:
            self.runs[key] += 1
            plan = self._plans[key]
            exc = plan.popleft() if plan else None
        if exc is not None:
            raise exc


class Enqueued(Middleware):
    """Records every enqueue the broker is asked for: (message id, delay, options)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.log: list[tuple[str, int | None, dict[str, Any]]] = []

    def after_enqueue(self, broker: dramatiq.Broker, message: Any, delay: int | None) -> None:
        with self._lock:
            self.log.append((message.message_id, delay, dict(message.options)))

    def delays(self, message_id: str) -> list[int]:
        with self._lock:
            return [d for m, d, _ in self.log if m == message_id and d is not None]


def scripted_spec(script: Script, settings: Settings, **changes: Any) -> ActorSpec:
    spec = ActorSpec(
        name="scripted",
        queue=Queue.DEFAULT,
        handler=script.run,
        max_retries=settings.job_max_retries,
        min_backoff_ms=settings.job_min_backoff_ms,
        max_backoff_ms=settings.job_max_backoff_ms,
    )
    return dataclasses.replace(spec, **changes)


@contextmanager
def worker_on(
    broker: dramatiq.Broker,
    settings: Settings,
    sandbox: SandboxContactSync | None = None,
    *,
    extra: Mapping[str, ActorSpec] | None = None,
) -> Iterator[EmbeddedWorker]:
    """A started worker with its own container; `extra` actors are bound beside the registry."""

    def container(b: dramatiq.Broker) -> Container:
        c = bootstrap(settings, broker=b, cache=MemoryCache(), contacts=sandbox)
        c.registry = {**c.registry, **(extra or {})}
        return c

    worker = EmbeddedWorker(broker, container, worker_timeout_ms=50)
    worker.start()
    try:
        yield worker
    finally:
        worker.stop()


async def drain(broker: dramatiq.Broker, worker: EmbeddedWorker, *queues: str) -> None:
    for queue in queues or ("default",):
        await asyncio.to_thread(broker.join, queue, timeout=20_000)
    await asyncio.to_thread(worker.join)


def message(actor: str, kwargs: dict[str, Any], queue: str = "default") -> dramatiq.Message[Any]:
    return dramatiq.Message(queue_name=queue, actor_name=actor, args=(), kwargs=kwargs, options={})
