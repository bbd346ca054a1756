"""`visapi worker`, built exactly as visapi/worker.py builds it, plus one middleware that holds
each successful `send_notification` delivery after its handler returned and before it is
acknowledged: the window between "sent recorded" and "ack" lasts milliseconds in production;
here it lasts PAUSE_S, so a test can SIGKILL the worker inside it deterministically.

Run as `python -m tests.e2e.paused_worker` with the same VISAPI_* environment as the worker.
"""

from __future__ import annotations

import signal
import sys
import threading
import time
from typing import Any

import dramatiq
from dramatiq.middleware import Middleware

from infrastructure.queue.broker import close_broker, create_broker
from infrastructure.queue.metrics import JobMetrics
from visapi.bootstrap import bootstrap
from visapi.logging import configure_logging
from visapi.settings import load_settings
from visapi.worker import EmbeddedWorker

PAUSE_S = 60.0
PAUSED = "paused before acknowledging"


class PauseBeforeAck(Middleware):
    def after_process_message(
        self,
        broker: dramatiq.Broker,
        message: Any,
        *,
        result: Any = None,
        exception: BaseException | None = None,
    ) -> None:
        if message.actor_name == "send_notification" and exception is None:
            print(f"{PAUSED} {message.message_id}", file=sys.stderr, flush=True)
            time.sleep(PAUSE_S)  # paused before the ack until the test kills this worker


def main() -> None:
    settings = load_settings()
    configure_logging(settings.log_level)
    broker = create_broker(settings)
    # First in the stack: `after_*` hooks run in reverse order, so this one runs last, once
    # the retry policy, the time limit (disarmed) and the job counters are done: all that is
    # left after it is the acknowledgement.
    broker.add_middleware(PauseBeforeAck(), before=JobMetrics)
    worker = EmbeddedWorker(
        broker, lambda b: bootstrap(settings, broker=b), threads=settings.worker_threads
    )
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    worker.start()
    try:
        while not stop.wait(1.0):
            pass
    finally:
        worker.stop(timeout_ms=1_000)
        close_broker(broker)


if __name__ == "__main__":
    main()
