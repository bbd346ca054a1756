"""The idempotency store and `run_once` on PostgreSQL and SQLite: one winner among concurrent
claims, 409 while an unanswered claim is fresh, take-over once it is abandoned, release on
failure, and answers kept per scope."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncEngine

from app.idempotency import (
    Answer,
    IdempotencyKeyReused,
    IdempotencyPolicy,
    IdempotencyRecord,
    RequestInProgress,
    run_once,
)
from infrastructure.db.engine import create_engine
from infrastructure.db.idempotency import SqlIdempotency
from infrastructure.db.tables import idempotency_keys

POLICY = IdempotencyPolicy(ttl_s=3600, wait_s=0.3, reclaim_after_s=60, poll_s=0.01)
# Waiting for a live first request: bounded by its answer, not by a tight clock (a loaded
# machine can take longer than 0.3 s to serve ten SQLite callers).
PATIENT = IdempotencyPolicy(ttl_s=3600, wait_s=20, reclaim_after_s=60, poll_s=0.01)


@pytest.fixture
async def engine(db_url: str) -> AsyncIterator[AsyncEngine]:
    e = create_engine(db_url, pool_size=8)
    yield e
    await e.dispose()


def utcnow() -> datetime:
    return datetime.now(UTC)


async def once(
    store: SqlIdempotency,
    key: str,
    body: str,
    run: Callable[[], Awaitable[Answer]],
    policy: IdempotencyPolicy = POLICY,
) -> tuple[Answer, bool]:
    return await run_once(
        store, "test", key, body, run, policy=policy, now=utcnow, new_id=uuid.uuid4
    )


class Watched(SqlIdempotency):
    """The real store, telling when `others` callers have each found the claim unanswered."""

    def __init__(self, engine: AsyncEngine, others: int) -> None:
        super().__init__(engine)
        self.others = others
        self.waiting: set[asyncio.Task[Any] | None] = set()
        self.all_waiting = asyncio.Event()

    async def get(self, scope: str, key: str) -> IdempotencyRecord | None:
        record = await super().get(scope, key)
        if record is not None and record.status_code is None:
            self.waiting.add(asyncio.current_task())
            if len(self.waiting) >= self.others:
                self.all_waiting.set()
        return record


async def test_concurrent_callers_run_once_and_share_the_answer(engine: AsyncEngine) -> None:
    store = Watched(engine, others=9)
    runs: list[int] = []

    async def run() -> Answer:
        runs.append(1)
        # Answer only once every other caller is waiting on the claim, so that each of them
        # takes the path under test (a bounded wait: a missing caller fails, it never hangs).
        await asyncio.wait_for(store.all_waiting.wait(), timeout=20)
        return Answer(201, {"n": len(runs)})

    results = await asyncio.gather(*(once(store, "k", "h", run, PATIENT) for _ in range(10)))
    assert runs == [1]
    assert [r[0] for r in results] == [Answer(201, {"n": 1})] * 10
    assert sorted(r[1] for r in results) == [False] + [True] * 9


async def test_a_fresh_unanswered_claim_answers_409_and_runs_nothing(engine: AsyncEngine) -> None:
    store = SqlIdempotency(engine)
    at = utcnow()
    # A request whose process died mid-way: its claim has no answer.
    assert await store.insert(
        "test", "k", "h", token=uuid.uuid4(), at=at, expires=at + timedelta(hours=1)
    )

    async def run() -> Answer:
        raise AssertionError("must not run beside a claim that may be alive")

    with pytest.raises(RequestInProgress) as caught:
        await once(store, "k", "h", run)
    assert "'k'" in caught.value.message


async def test_an_abandoned_claim_is_taken_over(engine: AsyncEngine) -> None:
    store = SqlIdempotency(engine)
    long_ago = utcnow() - timedelta(seconds=POLICY.reclaim_after_s + 1)
    old = uuid.uuid4()
    await store.insert(
        "test", "k", "h", token=old, at=long_ago, expires=long_ago + timedelta(hours=1)
    )

    async def run() -> Answer:
        return Answer(200, {"ran": True})

    assert await once(store, "k", "h", run) == (Answer(200, {"ran": True}), False)
    # The dead request, should it wake up, can no longer write its answer.
    assert not await store.complete(old, Answer(201, {}), utcnow())
    record = await store.get("test", "k")
    assert record is not None
    assert (record.status_code, record.response) == (200, {"ran": True})


async def test_a_failed_run_releases_the_key(engine: AsyncEngine) -> None:
    store = SqlIdempotency(engine)

    async def boom() -> Answer:
        raise RuntimeError("vendor down")

    async def unavailable() -> Answer:
        return Answer(503, {"errors": []})

    with pytest.raises(RuntimeError):
        await once(store, "k", "h", boom)
    assert await store.get("test", "k") is None
    assert await once(store, "k", "h", unavailable) == (Answer(503, {"errors": []}), False)
    assert await store.get("test", "k") is None

    async def works() -> Answer:
        return Answer(201, {"ok": 1})

    assert await once(store, "k", "h", works) == (Answer(201, {"ok": 1}), False)
    assert await once(store, "k", "h", works) == (Answer(201, {"ok": 1}), True)


async def test_another_body_is_refused_and_scopes_are_apart(engine: AsyncEngine) -> None:
    store = SqlIdempotency(engine)

    async def run() -> Answer:
        return Answer(202, {"run": "r1"})

    await once(store, "k", "h1", run)
    with pytest.raises(IdempotencyKeyReused):
        await once(store, "k", "h2", run)
    at = utcnow()
    # The same key in another scope (a workflow trigger) is another key.
    assert await store.insert(
        "trigger:x", "k", "h2", token=uuid.uuid4(), at=at, expires=at + timedelta(hours=1)
    )


async def test_purge_deletes_only_expired_keys_in_batches(engine: AsyncEngine) -> None:
    store = SqlIdempotency(engine)
    at = utcnow()
    expired = [
        {
            "id": uuid.uuid4(),
            "scope": "test",
            "key": f"old-{i}",
            "request_hash": "h",
            "created_at": at,
            "expires_at": at - timedelta(seconds=1),
        }
        for i in range(1005)
    ]
    async with engine.begin() as conn:
        await conn.execute(insert(idempotency_keys), expired)
    await store.insert(
        "test", "live", "h", token=uuid.uuid4(), at=at, expires=at + timedelta(hours=1)
    )
    assert await store.purge(at) == 1005
    async with engine.connect() as conn:
        assert (await conn.execute(select(idempotency_keys.c.key))).scalars().all() == ["live"]
