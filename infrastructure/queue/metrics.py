"""Job metrics: a Dramatiq middleware timing each delivery by actor, and queue depths read from
the broker (Redis list lengths of the namespace's queues, or the StubBroker's queues)."""

from __future__ import annotations

import threading
import time
from typing import Any

import dramatiq
from dramatiq.brokers.redis import RedisBroker
from dramatiq.brokers.stub import StubBroker
from dramatiq.common import dq_name, xq_name
from dramatiq.middleware import Middleware

from app.jobs import Queue
from app.metrics import JOB_FAILED, JOB_OK, JOB_RETRIED, Metrics

STATES = ("ready", "delayed", "dead")


class JobMetrics(Middleware):
    """Reports every processed message to `Metrics.job`: ok, retried (it raised and Retries
    re-enqueued it) or failed (it raised for the last time).

    List it before Retries in the stack: `after_*` hooks run in reverse order, so it then sees
    `message.failed` as Retries left it.
    """

    def __init__(self, metrics: Metrics) -> None:
        self._metrics = metrics
        self._lock = threading.Lock()
        self._started: dict[str, float] = {}  # message id → perf_counter at start

    def before_process_message(self, broker: dramatiq.Broker, message: Any) -> None:
        with self._lock:
            self._started[message.message_id] = time.perf_counter()

    def after_process_message(
        self,
        broker: dramatiq.Broker,
        message: Any,
        *,
        result: Any = None,
        exception: BaseException | None = None,
    ) -> None:
        with self._lock:
            started = self._started.pop(message.message_id, None)
        if started is None:
            return
        outcome = JOB_OK if exception is None else JOB_FAILED if message.failed else JOB_RETRIED
        self._metrics.job(message.actor_name, outcome, time.perf_counter() - started)

    def after_skip_message(self, broker: dramatiq.Broker, message: Any) -> None:
        with self._lock:
            self._started.pop(message.message_id, None)


def queue_depths(broker: dramatiq.Broker) -> dict[tuple[str, str], int]:
    """(queue, state) → messages: `ready` to run, `delayed` (retry backoff, `eta`), `dead`.

    Messages a worker has already fetched (prefetched or running) are in none of these.
    Blocking with a RedisBroker: one pipelined round trip.
    """
    queues = [q.value for q in Queue]
    if isinstance(broker, RedisBroker):
        pipe = broker.client.pipeline(transaction=False)
        for q in queues:
            pipe.llen(f"{broker.namespace}:{q}")
            pipe.llen(f"{broker.namespace}:{dq_name(q)}")
            pipe.zcard(f"{broker.namespace}:{xq_name(q)}")
        values = iter(pipe.execute())
        return {(q, state): int(next(values)) for q in queues for state in STATES}
    if isinstance(broker, StubBroker):
        depths: dict[tuple[str, str], int] = {}
        for q in queues:
            ready, delayed = broker.queues.get(q), broker.queues.get(dq_name(q))
            depths[q, "ready"] = ready.qsize() if ready is not None else 0
            depths[q, "delayed"] = delayed.qsize() if delayed is not None else 0
            dead = broker.dead_letters_by_queue
            # A StubBroker consumer of the delay queue keeps its dead letters apart.
            depths[q, "dead"] = len(dead.get(q, ())) + len(dead.get(dq_name(q), ()))
        return depths
    return {}
