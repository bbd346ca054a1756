"""Idempotency keys against an in-memory store: first answer kept, repeats replayed, failures
released, abandoned claims taken over. The wait is zero, so nothing here sleeps."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta
from uuid import UUID

import pytest

from app.errors import InvalidInput
from app.idempotency import (
    Answer,
    IdempotencyKeyReused,
    IdempotencyPolicy,
    RequestInProgress,
    check_key,
    fingerprint,
    run_once,
)
from tests.fakes import FakeIdempotency

T0 = datetime(2026, 3, 1, 12, tzinfo=UTC)
POLICY = IdempotencyPolicy(ttl_s=3600, wait_s=0, reclaim_after_s=60)
HASH = fingerprint(b'{"a":1}')


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> datetime:
        return self.now


_ids = itertools.count(1)


async def once(
    store: FakeIdempotency,
    clock: Clock,
    answer: Answer,
    request_hash: str = HASH,
    ran: list[int] | None = None,
) -> tuple[Answer, bool]:
    async def run() -> Answer:
        if ran is not None:
            ran.append(1)
        return answer

    return await run_once(
        store,
        "orders",
        "k1",
        request_hash,
        run,
        policy=POLICY,
        now=clock,
        new_id=lambda: UUID(int=next(_ids)),
        header="Idempotency-Key",
    )


@pytest.fixture
def store() -> FakeIdempotency:
    return FakeIdempotency()


@pytest.fixture
def clock() -> Clock:
    return Clock()


async def test_the_first_request_runs_and_its_answer_is_stored(
    store: FakeIdempotency, clock: Clock
) -> None:
    assert await once(store, clock, Answer(201, {"id": 1})) == (Answer(201, {"id": 1}), False)
    row = store.rows["orders", "k1"]
    assert (row.status_code, row.response, row.expires_at) == (
        201,
        {"id": 1},
        T0 + timedelta(hours=1),
    )


async def test_a_repeat_replays_the_first_answer_without_running(
    store: FakeIdempotency, clock: Clock
) -> None:
    await once(store, clock, Answer(201, {"id": 1}))
    ran: list[int] = []
    assert await once(store, clock, Answer(200, {"id": 2}), ran=ran) == (
        Answer(201, {"id": 1}),
        True,
    )
    assert ran == []


async def test_a_repeat_with_another_body_is_refused_naming_the_header(
    store: FakeIdempotency, clock: Clock
) -> None:
    await once(store, clock, Answer(201, {}))
    with pytest.raises(
        IdempotencyKeyReused, match="'k1' was already used with a different body"
    ) as caught:
        await once(store, clock, Answer(201, {}), request_hash=fingerprint(b"other"))
    assert caught.value.field == "Idempotency-Key"


async def test_a_server_error_is_not_kept_so_a_retry_runs(
    store: FakeIdempotency, clock: Clock
) -> None:
    assert await once(store, clock, Answer(503, {})) == (Answer(503, {}), False)
    assert store.rows == {}
    ran: list[int] = []
    await once(store, clock, Answer(201, {}), ran=ran)
    assert ran == [1]


async def test_a_client_error_is_the_answer_to_every_repeat(
    store: FakeIdempotency, clock: Clock
) -> None:
    await once(store, clock, Answer(422, {"error": "bad"}))
    assert await once(store, clock, Answer(201, {})) == (Answer(422, {"error": "bad"}), True)


async def test_a_failing_request_releases_its_key_and_raises(
    store: FakeIdempotency, clock: Clock
) -> None:
    async def boom() -> Answer:
        raise RuntimeError("db down")

    with pytest.raises(RuntimeError, match="db down"):
        await run_once(
            store,
            "orders",
            "k1",
            HASH,
            boom,
            policy=POLICY,
            now=clock,
            new_id=lambda: UUID(int=next(_ids)),
        )
    assert store.rows == {}


async def test_an_unanswered_claim_is_in_progress_past_the_wait(
    store: FakeIdempotency, clock: Clock
) -> None:
    await store.insert(
        "orders", "k1", HASH, token=UUID(int=0), at=T0, expires=T0 + timedelta(hours=1)
    )
    with pytest.raises(RequestInProgress, match="'k1' is in progress; retry later"):
        await once(store, clock, Answer(201, {}))


async def test_an_abandoned_claim_is_taken_over_after_the_reclaim_window(
    store: FakeIdempotency, clock: Clock
) -> None:
    await store.insert(
        "orders", "k1", HASH, token=UUID(int=0), at=T0, expires=T0 + timedelta(hours=1)
    )
    clock.now = T0 + timedelta(seconds=60)
    assert await once(store, clock, Answer(201, {"id": 9})) == (Answer(201, {"id": 9}), False)
    assert store.rows["orders", "k1"].token != UUID(int=0)


async def test_an_abandoned_claim_of_another_body_is_not_taken_over(
    store: FakeIdempotency, clock: Clock
) -> None:
    await store.insert(
        "orders", "k1", "other", token=UUID(int=0), at=T0, expires=T0 + timedelta(hours=1)
    )
    clock.now = T0 + timedelta(seconds=61)
    with pytest.raises(IdempotencyKeyReused):
        await once(store, clock, Answer(201, {}))


async def test_an_expired_answer_is_forgotten_and_the_request_runs_again(
    store: FakeIdempotency, clock: Clock
) -> None:
    await once(store, clock, Answer(201, {"id": 1}))
    clock.now = T0 + timedelta(hours=1)
    assert await once(store, clock, Answer(201, {"id": 2}), request_hash="new") == (
        Answer(201, {"id": 2}),
        False,
    )


@pytest.mark.parametrize("raw", ["k", "~" * 255, "a-b_c.d:e/f"])
def test_keys_of_visible_ascii_are_accepted(raw: str) -> None:
    assert check_key(raw, "Idempotency-Key") == raw


@pytest.mark.parametrize("raw", ["", "a" * 256, "has space", "tab\t", "é"])
def test_other_keys_are_refused_naming_the_header(raw: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        check_key(raw, "Idempotency-Key")
    assert caught.value.field == "Idempotency-Key"
    assert "1 to 255 visible ASCII characters" in caught.value.message


def test_the_fingerprint_is_the_sha256_of_the_body() -> None:
    assert fingerprint(b"") == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
