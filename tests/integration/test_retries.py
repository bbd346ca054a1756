"""The retry policy on a real worker: backoff, permanent vendor errors, Retry-After, RetryLater."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from app.jobs import RetryLater
from app.vendors import VendorError
from infrastructure.db.tables import failed_jobs
from infrastructure.queue.broker import create_broker
from tests.integration.workers import (
    Enqueued,
    Script,
    drain,
    fast,
    message,
    scripted_spec,
    worker_on,
)
from visapi.bootstrap import Container, bootstrap
from visapi.settings import Settings


async def dead_letters(c: Container) -> list[Any]:
    async with c.engine.connect() as conn:
        return list((await conn.execute(select(failed_jobs))).all())


async def run_scripted(
    settings: Settings, script: Script, key: str, **spec_changes: Any
) -> tuple[Container, Enqueued, str]:
    """Send one `scripted` message for `key`, run a worker until it is done; the api container
    (still open: the caller closes it), the enqueue log and the message id."""
    broker = create_broker(settings)
    enqueued = Enqueued()
    broker.add_middleware(enqueued)
    api = bootstrap(settings, broker=broker)
    spec = scripted_spec(script, settings, **spec_changes)
    with worker_on(broker, settings, extra={"scripted": spec}) as worker:
        sent = broker.enqueue(message("scripted", {"key": key}))
        await drain(broker, worker)
    return api, enqueued, sent.message_id


async def test_backoff_grows_and_the_exhausted_message_is_a_dead_letter(
    settings: Settings,
) -> None:
    settings = fast(settings, job_min_backoff_ms=10, job_max_backoff_ms=10_000)
    script = Script()
    script.always("k", RuntimeError("boom"))
    api, enqueued, message_id = await run_scripted(settings, script, "k", max_retries=3)
    try:
        delays = enqueued.delays(message_id)
        assert len(delays) == 3  # max_retries=3: three retries after the first attempt
        # Dramatiq's exponential backoff with jitter: retry n waits min·2ⁿ up to twice that.
        for n, delay in enumerate(delays):
            assert 10 * 2**n <= delay <= 10 * 2 ** (n + 1), delays
        assert delays == sorted(delays)
        assert script.runs["k"] == 4
        [dead] = await dead_letters(api)
        assert (dead.actor, dead.queue, dead.message_id) == ("scripted", "default", message_id)
        assert (dead.attempts, dead.error) == (4, "RuntimeError: boom")
        assert dead.arguments == {"key": "k"}
        assert dead.replayed_at is None
    finally:
        await api.aclose()


async def test_a_permanent_vendor_error_is_a_dead_letter_after_one_attempt(
    settings: Settings,
) -> None:
    settings = fast(settings, job_max_retries=5)
    script = Script()
    script.always("k", VendorError("validation", "phone rejected"))
    api, enqueued, message_id = await run_scripted(settings, script, "k")
    try:
        assert enqueued.delays(message_id) == []
        assert script.runs["k"] == 1
        [dead] = await dead_letters(api)
        assert (dead.attempts, dead.error) == (1, "VendorError: validation: phone rejected")
    finally:
        await api.aclose()


async def test_a_permanent_error_after_transient_ones_counts_every_attempt(
    settings: Settings,
) -> None:
    settings = fast(settings, job_max_retries=5)
    script = Script()
    script.plan("k", VendorError("network", "reset"), VendorError("auth", "token revoked"))
    api, enqueued, message_id = await run_scripted(settings, script, "k")
    try:
        assert len(enqueued.delays(message_id)) == 1
        [dead] = await dead_letters(api)
        assert (dead.attempts, dead.error) == (2, "VendorError: auth: token revoked")
    finally:
        await api.aclose()


async def test_rate_limited_waits_as_long_as_the_vendor_asked(settings: Settings) -> None:
    settings = fast(settings, job_min_backoff_ms=10, job_max_backoff_ms=40)
    script = Script()
    script.plan("k", VendorError("rate_limit", "slow down", retry_after_s=0.25))
    api, enqueued, message_id = await run_scripted(settings, script, "k")
    try:
        # max(Retry-After, backoff): the vendor's 250 ms beats a backoff of at most 20 ms.
        assert enqueued.delays(message_id) == [250]
        assert script.runs["k"] == 2
        assert await dead_letters(api) == []
    finally:
        await api.aclose()


async def test_rate_limited_without_retry_after_backs_off(settings: Settings) -> None:
    settings = fast(settings, job_min_backoff_ms=10, job_max_backoff_ms=10_000)
    script = Script()
    script.plan("k", VendorError("rate_limit", "slow down"))
    api, enqueued, message_id = await run_scripted(settings, script, "k")
    try:
        [delay] = enqueued.delays(message_id)
        assert 10 <= delay <= 20
    finally:
        await api.aclose()


async def test_retry_later_waits_its_delay_and_does_not_use_up_retries(
    settings: Settings,
) -> None:
    settings = fast(settings, job_max_retries=1)
    script = Script()
    script.plan("k", *[RetryLater("claim held", delay_ms=7) for _ in range(4)])
    api, enqueued, message_id = await run_scripted(settings, script, "k")
    try:
        # Four deferrals with max_retries=1, then success: deferrals are not failures.
        assert enqueued.delays(message_id) == [7, 7, 7, 7]
        assert script.runs["k"] == 5
        assert await dead_letters(api) == []
        retried = [o for m, d, o in enqueued.log if m == message_id and d is not None]
        assert [o.get("deferrals") for o in retried] == [1, 2, 3, 4]
        assert all(o.get("retries", 0) == 0 for o in retried)
    finally:
        await api.aclose()


async def test_retry_later_has_a_cap_of_its_own(settings: Settings) -> None:
    settings = fast(settings, job_max_retries=10, job_max_deferrals=2)
    script = Script()
    script.always("k", RetryLater("claim held", delay_ms=1))
    api, enqueued, message_id = await run_scripted(settings, script, "k")
    try:
        assert enqueued.delays(message_id) == [1, 1]
        [dead] = await dead_letters(api)
        assert (dead.attempts, dead.error) == (3, "RetryLater: claim held")
    finally:
        await api.aclose()


async def test_retry_later_without_a_delay_waits_the_min_backoff(settings: Settings) -> None:
    settings = fast(settings, job_min_backoff_ms=15)
    script = Script()
    script.plan("k", RetryLater("claim held"))
    api, enqueued, message_id = await run_scripted(settings, script, "k")
    try:
        assert enqueued.delays(message_id) == [15]
        assert await dead_letters(api) == []
    finally:
        await api.aclose()
