"""`visapi worker` processes: one consumer, or a supervisor of several, and the optional
/metrics endpoint (`--metrics-port`) reporting their jobs, vendor calls and queue depths."""

from __future__ import annotations

import logging
import multiprocessing
import os
import signal
import threading
from collections.abc import Sequence
from functools import partial

from app.jobs import Queue
from infrastructure.metrics import PrometheusMetrics
from infrastructure.metrics_endpoint import MetricsEndpoint
from infrastructure.queue.broker import close_broker, create_broker
from infrastructure.queue.metrics import queue_depths
from visapi.bootstrap import bootstrap
from visapi.metrics_dir import metrics_directory
from visapi.settings import Settings
from visapi.worker import EmbeddedWorker

log = logging.getLogger("visapi.worker")


def run_worker(
    settings: Settings,
    queues: Sequence[str] | None = None,
    *,
    processes: int = 1,
    threads: int | None = None,
    metrics_port: int | None = None,
) -> None:
    """`visapi worker`: consume the Redis queues until SIGINT/SIGTERM.

    With `metrics_port`, /metrics on 127.0.0.1:port reports this worker's jobs, vendor calls
    and queue depths; with several processes each counts into the files of a directory made for
    this run (PROMETHEUS_MULTIPROC_DIR, set before they start), and the supervisor serves their
    merged totals. The CLI drops a PROMETHEUS_MULTIPROC_DIR given to the worker: shared with
    `serve`, each start would empty the other's files.
    """
    if settings.redis_url is None:
        raise SystemExit(
            "visapi worker needs VISAPI_REDIS_URL; without Redis, `visapi serve` runs the"
            " worker in-process"
        )
    unknown = sorted(set(queues or ()) - {q.value for q in Queue})
    if unknown:
        raise SystemExit(f"unknown queue(s): {', '.join(unknown)} (known: critical, default, bulk)")
    if processes < 1:
        raise SystemExit("--processes must be at least 1")
    if processes == 1:
        _run_one(settings, queues, threads, metrics_port)
    elif metrics_port is None:
        _supervise(settings, queues, processes, threads)
    else:
        # A directory of its own (cli.worker drops any inherited one): never serve's files.
        with metrics_directory(os.environ, processes, prefix="visapi-worker-metrics-"):
            _supervise(settings, queues, processes, threads, metrics_port)


def _until_signal() -> threading.Event:
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    return stop


def _endpoint(metrics: PrometheusMetrics, port: int | None) -> MetricsEndpoint | None:
    if port is None:
        return None
    try:
        return MetricsEndpoint(metrics, port)
    except OSError as exc:
        raise SystemExit(f"worker metrics port {port}: {exc.strerror or exc}") from None


def _run_one(
    settings: Settings,
    queues: Sequence[str] | None,
    threads: int | None,
    metrics_port: int | None = None,
) -> None:
    # Jobs (the broker's middleware) and vendor calls (the container) count into one registry.
    metrics = PrometheusMetrics()
    broker = create_broker(settings, metrics)
    endpoint = _endpoint(metrics, metrics_port)
    worker = EmbeddedWorker(
        broker,
        lambda b: bootstrap(settings, broker=b, metrics=metrics),
        queues=queues,
        threads=threads or settings.worker_threads,
    )
    stop = _until_signal()
    worker.start()
    try:
        while not stop.wait(1.0):
            pass
        log.info("worker stopping")
    finally:
        worker.stop()
        if endpoint is not None:
            endpoint.close()
        close_broker(broker)
        metrics.retire()


def _supervise(
    settings: Settings,
    queues: Sequence[str] | None,
    processes: int,
    threads: int | None,
    metrics_port: int | None = None,
) -> None:
    """Run `processes` single-process workers; if one dies, stop all and let the service
    manager restart us (no home-made supervisor logic beyond that)."""
    # The children count into the multiprocess directory; this process serves the merged files
    # and reads queue depths itself. Bound first: a taken port starts nothing.
    metrics = PrometheusMetrics()
    broker = create_broker(settings) if metrics_port is not None else None
    if broker is not None:
        metrics.watch_queues(partial(queue_depths, broker))
    endpoint = _endpoint(metrics, metrics_port)
    ctx = multiprocessing.get_context("spawn")
    children = [
        ctx.Process(target=_run_one, args=(settings, queues, threads), name=f"visapi-worker-{i}")
        for i in range(processes)
    ]
    for child in children:
        child.start()
    stop = _until_signal()
    failed = False
    while not stop.wait(1.0):
        if any(not c.is_alive() for c in children):
            log.error("a worker process exited; stopping the others")
            failed = True
            break
    _stop_children(children)
    if endpoint is not None:
        endpoint.close()
    if broker is not None:
        close_broker(broker)
    if failed:
        raise SystemExit(1)


def _stop_children(children: Sequence[multiprocessing.process.BaseProcess]) -> None:
    for child in children:
        if child.is_alive():
            child.terminate()  # SIGTERM: the child finishes its messages and closes cleanly
    for child in children:
        child.join(timeout=60)
