"""Broker maintenance on a timer: a dead worker's jobs come back within a bound, not by chance.

Dramatiq's RedisBroker requeues the messages a dead worker held (fetched and unacknowledged, in
flight or waiting out a delay in a `.DQ` queue) only inside its dispatch script, when a broker
command draws `maintenance_chance` in a million; and only for the queue that command names. A
quiet system sends few commands, so a killed worker's jobs waited minutes, or for ever (the
fault run lost 13 confirmations so). Every live worker and scheduler therefore runs that same
maintenance, the broker's own Lua script, on every queue and delay queue each `period_s`,
below the heartbeat timeout: a worker silent for the timeout `H` is requeued at most `H +
period` after its last heartbeat, under `2H`. The run also refreshes this broker's heartbeat,
so a live worker whose threads are all busy (its consumers then send no command) is never
taken for dead.
"""

from __future__ import annotations

import logging
import threading

import redis
from dramatiq.brokers.redis import RedisBroker
from dramatiq.common import dq_name

log = logging.getLogger("visapi.queue")

# The period as a fraction of the heartbeat timeout: a third leaves room for a slow run.
PERIOD_FRACTION = 3


class MaintainedRedisBroker(RedisBroker):
    """RedisBroker whose maintenance can also be asked for, on every queue, by `maintain()`."""

    def __init__(self, **options: object) -> None:
        super().__init__(**options)  # type: ignore[no-untyped-call]  # dramatiq leaves it untyped
        self._forced = threading.local()

    def _should_do_maintenance(self, command: str) -> int:
        if getattr(self._forced, "on", False):
            return 1
        return int(super()._should_do_maintenance(command))

    def maintain(self) -> None:
        """Requeue every dead worker's messages of every declared queue and delay queue.

        `qsize` is a read: the script's maintenance runs first, then it only counts.
        """
        self._forced.on = True
        try:
            for queue in sorted(self.queues):
                for name in (queue, dq_name(queue)):
                    self.do_qsize(name)
        finally:
            self._forced.on = False


class MaintenanceTimer:
    """A daemon thread running `broker.maintain()` every `period_s` until `stop()`."""

    def __init__(self, broker: MaintainedRedisBroker, period_s: float) -> None:
        self._broker = broker
        self._period_s = period_s
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="broker-maintenance", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=10)

    def _run(self) -> None:
        while True:
            try:
                self._broker.maintain()
            except redis.RedisError as exc:
                # Redis away: nothing to requeue into; the next period tries again.
                log.warning("broker maintenance failed: %s", exc)
            if self._stop.wait(self._period_s):
                return


def maintenance_timer(broker: object) -> MaintenanceTimer | None:
    """The timer for a broker made by `create_broker`; None for the in-memory broker."""
    if not isinstance(broker, MaintainedRedisBroker):
        return None
    period_s = broker.heartbeat_timeout / 1000 / PERIOD_FRACTION
    return MaintenanceTimer(broker, period_s)
