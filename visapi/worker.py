"""Job consumers: the worker that runs actors on a container of its own, used by `serve`
(embedded) and by `visapi worker` processes (visapi/worker_processes.py)."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from typing import Any

import dramatiq
from dramatiq.asyncio import get_event_loop_thread
from dramatiq.middleware import AsyncIO, Middleware

from infrastructure.queue.broker import in_memory_messages, register_actors
from infrastructure.queue.dead_letters import dead_letters_of, failed_job_writer
from infrastructure.queue.maintenance import MaintenanceTimer, maintenance_timer
from visapi.bootstrap import Container, bootstrap

log = logging.getLogger("visapi.worker")

ContainerFactory = Callable[[dramatiq.Broker], Container]
EMBEDDED_THREADS = 2


class _CloseOnLoop(Middleware):
    """Closes the worker's container on Dramatiq's loop once the workers stopped (and, with
    the in-memory broker, returns the jobs still queued to the outbox).

    Added after AsyncIO: `after_*` hooks run in reverse order, so this runs while the loop
    that owns the container's pools is still alive (AsyncIO stops it right after).
    """

    def __init__(self, container: Container) -> None:
        self._container = container

    def after_worker_shutdown(self, broker: dramatiq.Broker, worker: Any) -> None:
        dead_letters_of(broker).bind(None)
        loop_thread = get_event_loop_thread()
        if loop_thread is None:
            return
        try:
            tracker = in_memory_messages(broker)
            lost = tracker.pending_ids() if tracker else []
            if lost:
                # In-memory jobs die with us: give them back to the outbox for the next start.
                n = loop_thread.run_coroutine(self._container.relay.unpublish(lost))
                log.warning("%d queued job(s) returned to the outbox for the next start", n)
        finally:
            loop_thread.run_coroutine(self._container.aclose())


class EmbeddedWorker:
    """A `dramatiq.Worker` whose actors run on a container of their own.

    Actors are async: Dramatiq runs them on its one event-loop thread (set up by the AsyncIO
    middleware at worker boot), so the container built here is only ever used on that loop.
    One per process and per broker: Dramatiq keeps a single global loop thread, and a Worker
    leaves its consumer hook on the broker, so start a fresh broker for a new worker.
    """

    def __init__(
        self,
        broker: dramatiq.Broker,
        container_factory: ContainerFactory,
        *,
        queues: Sequence[str] | None = None,
        threads: int = EMBEDDED_THREADS,
        worker_timeout_ms: int = 1000,
    ) -> None:
        self.broker = broker
        self._factory = container_factory
        self._queues = set(queues) if queues else None
        self._threads = threads
        self._worker_timeout_ms = worker_timeout_ms
        self._worker: dramatiq.Worker | None = None
        self._maintenance: MaintenanceTimer | None = None
        self.container: Container | None = None

    def start(self) -> None:
        if self.container is not None:
            raise RuntimeError("an EmbeddedWorker starts once: build a new one on a new broker")
        if get_event_loop_thread() is not None:
            raise RuntimeError("another Dramatiq worker is running in this process")
        # Engines and clients connect lazily, so building here and using them on Dramatiq's
        # loop is safe; actors are bound before consuming so no message meets an unknown actor.
        self.container = container = self._factory(self.broker)
        register_actors(self.broker, container.bus, container.registry)
        dead_letters_of(self.broker).bind(failed_job_writer(container.engine))
        self.broker.add_middleware(_CloseOnLoop(container), after=AsyncIO)
        # What dramatiq's CLI does per process: starts TimeLimit's timer thread.
        self.broker.emit_after("process_boot")
        self._worker = dramatiq.Worker(
            self.broker,
            queues=self._queues,
            worker_threads=self._threads,
            worker_timeout=self._worker_timeout_ms,
        )
        self._worker.start()
        # Requeues the jobs of dead workers within twice the heartbeat timeout (Redis only).
        self._maintenance = maintenance_timer(self.broker)
        if self._maintenance is not None:
            self._maintenance.start()
        log.info("worker started: queues %s, %d threads", self._queues or "all", self._threads)

    def join(self) -> None:
        """Wait until the messages fetched so far are processed (tests)."""
        if self._worker is not None:
            self._worker.join()

    def stop(self, timeout_ms: int = 30_000) -> None:
        """Finish running messages (up to `timeout_ms`), close the container, stop the loop."""
        if self._maintenance is not None:
            self._maintenance.stop()
            self._maintenance = None
        if self._worker is not None:
            self._worker.stop(timeout=timeout_ms)
            self._worker = None


def embedded_worker(api: Container) -> EmbeddedWorker:
    """The worker of embedded `serve`: same StubBroker and memory cache as the API (so
    evictions are shared), its own engine and vendor adapters on its own loop (the sandboxes
    record in the shared database); adapters passed to the API's bootstrap are shared."""
    return EmbeddedWorker(
        api.broker,
        lambda broker: bootstrap(
            api.settings,
            broker=broker,
            cache=api.cache,
            metrics=api.metrics,
            contacts=api.replaced.contacts,
            messaging=api.replaced.messaging,
            live=api.live,
            key_usage=api.access.usage,
        ),
        # How long a worker thread waits on an empty queue: also what a shutdown waits (x2).
        worker_timeout_ms=100,
    )
