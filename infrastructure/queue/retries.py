"""The retry policy: Dramatiq's exponential backoff, told apart by what the actor raised.

- Any other exception: Dramatiq's `Retries` unchanged (counts, jitter, min/max backoff).
- `VendorError` of a permanent kind (auth, validation): failed at once, no retry. Sending
  the same request to a vendor that refused it cannot succeed; it goes to the dead letters.
- `VendorError` rate-limited with `retry_after_s`: retried after the larger of the vendor's
  Retry-After and the backoff, counted against `max_retries` like any failure.
- `RetryLater` (another attempt holds the claim): retried after its `delay_ms` (the actor's
  min backoff when it names none) and NOT counted against `max_retries`. Waiting for a claim
  is not a failure of this message; counting it would dead-letter a message whose side
  effect may still succeed (five quick deferrals during one slow send would exhaust it).
  Deferrals have their own cap, `max_deferrals`, so a bug that defers forever still ends in
  the dead letters instead of looping silently.

Every attempt that raised increments exactly one of two counters in the message options:
`retries` (Dramatiq's own, against `max_retries`) or `deferrals`. Their sum is the number
of attempts the dead letter records.
"""

from __future__ import annotations

import time
import traceback
from typing import Any

import dramatiq
from dramatiq.common import compute_backoff
from dramatiq.middleware import Retries
from dramatiq.middleware.retries import DEFAULT_MAX_BACKOFF

from app.jobs import RetryLater
from app.vendors import ErrorKind, VendorError

DEFERRALS = "deferrals"


def attempts_of(message: Any) -> int:
    """How many times the message ran and raised (retries + deferrals), at least one."""
    options = message.options
    return max(1, int(options.get("retries", 0)) + int(options.get(DEFERRALS, 0)))


class RetryPolicy(Retries):
    """`Retries` with the vendor taxonomy and `RetryLater` (see the module docstring)."""

    def __init__(
        self,
        *,
        max_retries: int,
        min_backoff: int,
        max_backoff: int,
        max_deferrals: int,
    ) -> None:
        super().__init__(max_retries=max_retries, min_backoff=min_backoff, max_backoff=max_backoff)
        self.max_deferrals = max_deferrals

    def after_process_message(
        self,
        broker: dramatiq.Broker,
        message: Any,
        *,
        result: Any = None,
        exception: BaseException | None = None,
    ) -> None:
        if isinstance(exception, RetryLater):
            self._defer(broker, message, exception)
        elif isinstance(exception, VendorError) and exception.kind is ErrorKind.PERMANENT:
            self._count(message)
            self.logger.warning(
                "Message %r failed permanently: %s", message.message_id, exception.category
            )
            message.fail()
        elif isinstance(exception, VendorError) and exception.retry_after_s is not None:
            self._retry_after(broker, message, exception)
        else:
            super().after_process_message(  # type: ignore[no-untyped-call]  # untyped upstream
                broker, message, result=result, exception=exception
            )

    def _count(self, message: Any) -> int:
        """Count one failure as Dramatiq does; return the count before it."""
        retries: int = message.options.setdefault("retries", 0)
        message.options["retries"] = retries + 1
        message.options["traceback"] = traceback.format_exc(limit=30)
        message.options["requeue_timestamp"] = int(time.time() * 1000)
        return retries

    def _option(self, broker: dramatiq.Broker, message: Any, name: str, default: Any) -> Any:
        actor = broker.get_actor(message.actor_name)
        return message.options.get(name, actor.options.get(name, default))

    def _retry_after(self, broker: dramatiq.Broker, message: Any, exception: VendorError) -> None:
        retries = self._count(message)
        if retries >= self._option(broker, message, "max_retries", self.max_retries):
            self.logger.warning("Retries exceeded for message %r.", message.message_id)
            message.fail()
            return
        min_backoff = self._option(broker, message, "min_backoff", self.min_backoff)
        max_backoff = min(
            self._option(broker, message, "max_backoff", self.max_backoff), DEFAULT_MAX_BACKOFF
        )
        _, backoff = compute_backoff(retries, factor=min_backoff, max_backoff=max_backoff)
        asked = int((exception.retry_after_s or 0) * 1000)
        # The broker refuses delays beyond seven days; a vendor asking for more gets seven.
        delay = min(max(asked, backoff), DEFAULT_MAX_BACKOFF)
        self.logger.info("Rate limited: retrying %r in %d ms.", message.message_id, delay)
        broker.enqueue(message, delay=delay)

    def _defer(self, broker: dramatiq.Broker, message: Any, exception: RetryLater) -> None:
        deferrals = int(message.options.get(DEFERRALS, 0))
        message.options[DEFERRALS] = deferrals + 1
        message.options["requeue_timestamp"] = int(time.time() * 1000)
        if deferrals >= self.max_deferrals:
            self.logger.warning("Deferrals exceeded for message %r.", message.message_id)
            message.fail()
            return
        delay = exception.delay_ms
        if delay is None:
            delay = self._option(broker, message, "min_backoff", self.min_backoff)
        self.logger.info("Deferring %r by %d ms: %s", message.message_id, delay, exception)
        broker.enqueue(message, delay=min(int(delay), DEFAULT_MAX_BACKOFF))
