"""`visapi worker`, built as visapi/worker.py builds it, whose threads hold every
`sync_contact` message before running it: the worker keeps them fetched and unacknowledged
(in flight, prefetched, or waiting out a delay) until it is killed. A test SIGKILLs it and
watches another worker get them back.

Run as `python -m tests.integration.holding_worker` with the worker's VISAPI_* environment.
"""

from __future__ import annotations

import sys
import threading
import time
from typing import Any

import dramatiq
from dramatiq.middleware import Middleware

from infrastructure.queue.broker import create_broker
from visapi.bootstrap import bootstrap
from visapi.logging import configure_logging
from visapi.settings import load_settings
from visapi.worker import EmbeddedWorker

HOLDING = "holding"


class HoldEverything(Middleware):
    def before_process_message(self, broker: dramatiq.Broker, message: Any) -> None:
        if message.actor_name == "sync_contact":
            print(f"{HOLDING} {message.message_id}", file=sys.stderr, flush=True)
            time.sleep(3600)  # holds the job until the test SIGKILLs this worker


def main() -> None:
    settings = load_settings()
    configure_logging(settings.log_level)
    broker = create_broker(settings)
    broker.add_middleware(HoldEverything())
    worker = EmbeddedWorker(
        broker, lambda b: bootstrap(settings, broker=b), threads=settings.worker_threads
    )
    worker.start()
    threading.Event().wait()  # until SIGKILL: this worker never stops cleanly


if __name__ == "__main__":
    main()
