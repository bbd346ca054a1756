"""Fail-open Redis calls for rate limits and key usage: errors are logged, counted and skipped."""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Awaitable, Callable
from typing import Any

from redis.exceptions import RedisError

from infrastructure.cache.redis import _DOWN, BREAKER_SECONDS, LOG_EVERY_SECONDS


class FailOpen:
    """Runs a Redis call that must never fail a request.

    A failure answers None, adds to `failures`, and is logged once per burst; after a
    connection failure Redis is not tried for `BREAKER_SECONDS`, so a dead Redis costs
    nothing per request. The first success after failures is logged too.
    """

    def __init__(self, what: str, log: logging.Logger) -> None:
        self.what = what
        self.failures = 0
        self._log = log
        self._closed_until = 0.0
        self._failing = False
        self._logged_at = -math.inf
        self._suppressed = 0

    async def __call__(self, fn: Callable[..., Awaitable[Any]], *args: Any) -> Any:
        now = time.monotonic()
        if now < self._closed_until:
            self.failures += 1
            return None
        try:
            result = await fn(*args)
        except (RedisError, OSError) as exc:
            self.failures += 1
            if isinstance(exc, _DOWN):
                self._closed_until = now + BREAKER_SECONDS
            self._failing = True
            self._warn(exc, now)
            return None
        if self._failing:
            self._failing = False
            self._log.info("%s: Redis answers again", self.what)
        return result

    def _warn(self, exc: BaseException, now: float) -> None:
        if now - self._logged_at < LOG_EVERY_SECONDS:
            self._suppressed += 1
            return
        self._log.warning(
            "%s: Redis call failed, failing open (%s: %s; %d errors not logged)",
            self.what,
            type(exc).__name__,
            exc,
            self._suppressed,
        )
        self._logged_at, self._suppressed = now, 0
