"""A worker killed while the database is away, after the CRM accepted a confirmation and before
it could record it: the recording was already a job of its own in Redis, so the next worker
records it and the redelivered send finds the row sent. One message, not two (the fault run's
duplicates: PostgreSQL crashed under four sends, then the worker was SIGKILLed)."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest
from sqlalchemy.engine import make_url

from tests.e2e.pipeline_support import e2e_run, e2e_settings, il_phone, order_body
from tests.e2e.test_exactly_once import per_phone, sent_notes
from tests.outages import DatabaseOutage
from tests.vendor import FakeVendor

pytestmark = [pytest.mark.postgres, pytest.mark.redis]


async def test_a_worker_killed_while_recording_a_sent_message_sends_it_once(
    postgres_url: str,
    postgres_admin_url: str,
    redis_url: str,
    fake_vendor: FakeVendor,
    tmp_path: Path,
) -> None:
    # The stale window must outlast the outage, the restart and the requeue (recording.py);
    # 5 s (the e2e default) did not on a loaded machine.
    settings = e2e_settings(postgres_url, redis_url, fake_vendor, notification_stale_claim_s=20.0)
    database = make_url(postgres_url).database
    assert database is not None
    outage = DatabaseOutage(postgres_admin_url, database)
    async with e2e_run(settings, fake_vendor, tmp_path) as run:
        first = run.procs.worker("first")
        fake_vendor.script("message.send", "slow", delay=2.0, times=1)
        order = uuid.UUID((await run.post_order(order_body("il-uk-eta.json")))["id"])
        await run.until(lambda: fake_vendor.requests("message.send"), "the send to reach the CRM")
        await outage.cut()  # while the CRM is still answering
        try:
            await run.until(fake_vendor.messages, "the CRM to accept the message")
            failed = "recording it failed"
            await run.until(lambda: failed in run.procs.log(first), "a failed recording")
            run.procs.kill(first)  # the process dies before the database is back
        finally:
            await outage.restore()
        await run.c.engine.dispose()  # the test's own pooled connections died with the outage

        run.procs.worker("second")
        [note] = await run.until(lambda: sent_notes(run, order), "the row to be sent")
        # Every message done: the killed worker's, requeued, and any retry, past the stale
        # window after which a redelivered send would take the claim over and send again.
        await run.until(run.idle, "every queue to be empty")
        assert per_phone(fake_vendor) == {il_phone(): 1}
        [message] = fake_vendor.messages()
        assert (note["attempts"], note["provider_message_id"]) == (1, message["id"])
