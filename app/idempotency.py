"""Idempotency keys of REST writes: the first answer under a key is the answer to every repeat.

The store holds one row per (scope, key). The first request inserts it (without an answer) and
runs; repeats find the row and wait for its answer with a bounded poll. Inserting first is what
makes concurrent repeats safe: the unique (scope, key) lets exactly one insert win, on PostgreSQL
and SQLite alike, before any work is done.

Failure windows, and why they are closed this way:
- The first request fails (an exception, a 5xx, a timeout that cancels it): it deletes its row,
  so a retry runs again. Retrying is safe because the work itself is idempotent where it
  matters (an order id is stored once; a repeat answers `duplicate`).
- The first request's process dies: its row stays without an answer. Repeats wait `wait_s`, then
  hear 409 "in progress" rather than risk running twice beside a request that may still be
  alive. After `reclaim_after_s` (longer than the request timeout, which cancels any live
  request) the row is taken over by the next repeat.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol
from uuid import UUID

from app.errors import Conflict, InvalidInput

log = logging.getLogger("visapi.idempotency")

MAX_KEY_LENGTH = 255  # the column's width
POLL_MAX_S = 0.5


@dataclass(frozen=True)
class Answer:
    """An answer worth replaying: HTTP status code and JSON body."""

    status_code: int
    body: Any


@dataclass(frozen=True)
class IdempotencyRecord:
    """One stored key. `token` names the request holding it (a new one on every take-over)."""

    token: UUID
    request_hash: str
    status_code: int | None  # None while the first request runs
    response: Any
    created_at: datetime
    expires_at: datetime


class Idempotency(Protocol):
    """The key store. Every write is a compare-and-set, so concurrent callers cannot both win."""

    async def insert(
        self,
        scope: str,
        key: str,
        request_hash: str,
        *,
        token: UUID,
        at: datetime,
        expires: datetime,
    ) -> bool:
        """Store the key without an answer; False when it exists already."""
        ...

    async def get(self, scope: str, key: str) -> IdempotencyRecord | None: ...

    async def take_over(
        self,
        scope: str,
        key: str,
        old: IdempotencyRecord,
        request_hash: str,
        *,
        token: UUID,
        at: datetime,
        expires: datetime,
    ) -> bool:
        """Replace `old` (expired, or abandoned) by a fresh claim; False when it changed since."""
        ...

    async def complete(self, token: UUID, answer: Answer, expires: datetime) -> bool:
        """Record the answer of the claim `token`; False when the claim was taken over."""
        ...

    async def release(self, token: UUID) -> None:
        """Drop the unanswered claim `token`, so that a retry runs again."""
        ...

    async def purge(self, before: datetime) -> int:
        """Delete keys that expired before `before`; return how many."""
        ...


@dataclass(frozen=True)
class IdempotencyPolicy:
    ttl_s: float
    wait_s: float
    reclaim_after_s: float
    poll_s: float = 0.05


class IdempotencyKeyReused(InvalidInput):
    """The key was used with another body: HTTP 422."""


class RequestInProgress(Conflict):
    """The first request under the key has not answered within the wait: HTTP 409."""


def fingerprint(body: bytes) -> str:
    return hashlib.sha256(body).hexdigest()


def check_key(raw: str, header: str) -> str:
    """The key as sent, or InvalidInput naming the header (visible ASCII, 1-255 characters)."""
    if not raw or len(raw) > MAX_KEY_LENGTH or not all("!" <= c <= "~" for c in raw):
        raise InvalidInput(
            f"{header} must be 1 to {MAX_KEY_LENGTH} visible ASCII characters", field=header
        )
    return raw


async def run_once(
    store: Idempotency,
    scope: str,
    key: str,
    request_hash: str,
    run: Callable[[], Awaitable[Answer]],
    *,
    policy: IdempotencyPolicy,
    now: Callable[[], datetime],
    new_id: Callable[[], UUID],
    header: str = "Idempotency key",
) -> tuple[Answer, bool]:
    """`run()`'s answer, or the stored first answer under `key` (then True: a replay)."""
    clock = asyncio.get_running_loop().time
    deadline = clock() + policy.wait_s
    ttl, reclaim = timedelta(seconds=policy.ttl_s), timedelta(seconds=policy.reclaim_after_s)
    delay = policy.poll_s
    while True:
        at, token = now(), new_id()
        if await store.insert(scope, key, request_hash, token=token, at=at, expires=at + ttl):
            return await _run(store, token, run, now, ttl), False
        record = await store.get(scope, key)
        if record is not None:
            abandoned = record.status_code is None and record.created_at <= at - reclaim
            if record.expires_at <= at or (abandoned and record.request_hash == request_hash):
                taken = await store.take_over(
                    scope, key, record, request_hash, token=token, at=at, expires=at + ttl
                )
                if taken:
                    if abandoned:
                        log.warning(
                            "idempotency key %s:%s: took over an abandoned claim", scope, key
                        )
                    return await _run(store, token, run, now, ttl), False
                continue  # another repeat took it first: read again
            if record.request_hash != request_hash:
                raise IdempotencyKeyReused(
                    f"{header} {key!r} was already used with a different body", field=header
                )
            if record.status_code is not None:
                return Answer(record.status_code, record.response), True
        # Unanswered (or just released: the next insert may win) — wait, within bounds.
        if clock() >= deadline:
            raise RequestInProgress(
                f"A request with {header} {key!r} is in progress; retry later", field=header
            )
        await asyncio.sleep(delay)
        delay = min(delay * 2, POLL_MAX_S)


async def _run(
    store: Idempotency,
    token: UUID,
    run: Callable[[], Awaitable[Answer]],
    now: Callable[[], datetime],
    ttl: timedelta,
) -> Answer:
    try:
        answer = await run()
    except BaseException:  # cancellation too (the request timed out): no answer to keep
        await _release(store, token)
        raise
    if answer.status_code >= 500:  # a passing failure, not the request's answer
        await _release(store, token)
    elif not await store.complete(token, answer, now() + ttl):
        log.warning("idempotency claim %s was taken over before it answered", token)
    return answer


async def _release(store: Idempotency, token: UUID) -> None:
    try:
        await store.release(token)
    except Exception:
        # The row stays unanswered: repeats hear 409 until the reclaim window frees it.
        log.exception("could not release idempotency claim %s", token)
