"""The pipeline bench's baseline: a no-op actor drained by the product's worker setup.

`python -m tests.bench.noop_worker JOBS PROCESSES`: sends JOBS messages of an actor that does
nothing on the product's broker (same Redis, middleware, namespace prefix, threads per process),
drained by PROCESSES worker processes started first (the clock runs from the first send to
the last acknowledgement) and prints `jobs/min <value>` last. What the
product's jobs cost beyond this is theirs: database, vendor calls, handlers.
"""

from __future__ import annotations

import multiprocessing
import sys
import time
from typing import Any

import dramatiq
from dramatiq import Worker

from infrastructure.queue.broker import close_broker, create_broker
from visapi.settings import Settings, load_settings

QUEUE = "bench-noop"


def _broker(settings: Settings) -> tuple[dramatiq.Broker, Any]:
    broker = create_broker(settings)

    async def noop(n: int) -> None:
        return None

    actor = dramatiq.actor(noop, broker=broker, actor_name="bench_noop", queue_name=QUEUE)
    return broker, actor


def _consume(settings: Settings, stop: Any, ready: Any) -> None:
    broker, _ = _broker(settings)
    worker = Worker(broker, worker_threads=settings.worker_threads, queues={QUEUE})
    worker.start()
    ready.release()
    try:
        stop.wait()
    finally:
        worker.stop()
        close_broker(broker)


def main() -> int:
    jobs, processes = int(sys.argv[1]), int(sys.argv[2])
    settings = load_settings()
    ctx = multiprocessing.get_context("spawn")
    stop, ready = ctx.Event(), ctx.Semaphore(0)
    procs = [ctx.Process(target=_consume, args=(settings, stop, ready)) for _ in range(processes)]
    for p in procs:
        p.start()
    for _ in procs:
        ready.acquire()  # every worker consuming before the clock starts
    broker, actor = _broker(settings)
    client = broker.client  # type: ignore[attr-defined]
    messages = f"{settings.redis_namespace}:{QUEUE}.msgs"
    started = time.perf_counter()
    for n in range(jobs):
        actor.send(n)
    while client.hlen(messages):  # a message's body is deleted when it is acknowledged
        time.sleep(0.02)
    seconds = time.perf_counter() - started
    stop.set()
    for p in procs:
        p.join()
    close_broker(broker)
    print(f"no-op: {jobs} jobs in {seconds:.2f} s; jobs/min {jobs / seconds * 60:.0f}", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
