"""A message the vendor accepted is recorded, never sent again, when PostgreSQL goes away
between the vendor's answer and the `sent` UPDATE: the fault run's duplicate confirmation.

The database is made unreachable right after the fake CRM accepted the message (connections
refused and the pool's connections terminated), and comes back a few seconds later. Either the
send job's own in-process retries record it, or, when the outage outlasts them, the job of its
own that they hand the recording to. The fake vendor counts the messages: exactly one.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging

import pytest
from sqlalchemy import select
from sqlalchemy.engine import make_url

from app.notifications.ports import TemplateMessage
from app.orders.commands import CreateOrder, OrderAccepted
from infrastructure.cache.memory import MemoryCache
from infrastructure.db.tables import notifications
from infrastructure.queue.broker import create_broker
from infrastructure.vendors.cbb import CbbClient
from infrastructure.vendors.cbb_adapters import CbbContactSync, CbbMessaging
from infrastructure.vendors.sandbox import SandboxContactSync
from tests.integration.cbb_support import contact
from tests.integration.test_actors import drain
from tests.outages import DatabaseOutage
from tests.pipeline import body
from tests.vendor import FakeVendor
from visapi.bootstrap import bootstrap
from visapi.settings import Settings
from visapi.worker import EmbeddedWorker

pytestmark = pytest.mark.postgres

PHONE = "972541112233"  # the phone of tests/pipeline.py's body()


class CutAfterSending:
    """The CBB messaging adapter on the fake vendor; after the first accepted message the
    database goes away (before the worker can record it)."""

    def __init__(self, vendor: FakeVendor, outage: DatabaseOutage) -> None:
        self._vendor, self._outage = vendor, outage
        self._tasks: list[asyncio.Task[None]] = []

    async def send_template(self, message: TemplateMessage) -> str | None:
        cbb = CbbClient(self._vendor.base_url, self._vendor.token, timeout_s=5, retries=0)
        try:
            provider_id = await CbbMessaging(cbb).send_template(message)
        finally:
            await cbb.aclose()
        if not self._tasks:
            self._tasks.append(await self._outage.begin())
        return provider_id


@pytest.mark.parametrize(
    ("time_limit_ms", "outage_s", "handed_over"),
    [
        pytest.param(10_000, 2.0, False, id="recorded-in-process"),
        # 0.8 s of in-process retries, then the recording's own job.
        pytest.param(1_000, 3.0, True, id="recorded-by-its-own-job"),
    ],
)
async def test_a_sent_message_whose_recording_fails_is_not_sent_again(
    postgres_url: str,
    postgres_admin_url: str,
    fake_vendor: FakeVendor,
    time_limit_ms: int,
    outage_s: float,
    handed_over: bool,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, logger="visapi.notifications")
    settings = Settings(
        database_url=postgres_url,
        db_pool_size=2,
        job_max_retries=30,
        job_min_backoff_ms=200,
        job_max_backoff_ms=1_000,
        job_time_limit_ms=time_limit_ms,
        notification_stale_claim_s=12.0,  # past it, the old code sent again
    )
    database = make_url(postgres_url).database
    assert database is not None
    outage = DatabaseOutage(postgres_admin_url, database, outage_s)
    messaging = CutAfterSending(fake_vendor, outage)
    cbb = CbbClient(fake_vendor.base_url, fake_vendor.token, timeout_s=5, retries=0)
    try:
        await CbbContactSync(cbb).upsert(contact(PHONE))
    finally:
        await cbb.aclose()

    broker = create_broker(settings)
    crm = SandboxContactSync()
    api = bootstrap(settings, broker=broker, contacts=crm, messaging=messaging)
    worker = EmbeddedWorker(
        broker,
        lambda b: bootstrap(
            dataclasses.replace(settings),
            broker=b,
            cache=MemoryCache(),
            contacts=crm,
            messaging=messaging,
        ),
        worker_timeout_ms=50,
    )
    worker.start()
    try:
        accepted = await api.bus.handle(CreateOrder(payload=body()))
        assert isinstance(accepted, OrderAccepted)
        await drain(broker, worker)
        assert outage.over.is_set()
        await drain(broker, worker)  # anything the end of the outage let run
        await api.engine.dispose()  # its pooled connections were terminated with the outage
        async with api.engine.connect() as conn:
            [note] = (await conn.execute(select(notifications))).all()
    finally:
        worker.stop()
        await api.aclose()
        await outage.restore()
    assert [m["phone"] for m in fake_vendor.messages()] == [PHONE]
    assert (note.status, note.attempts) == ("sent", 1)
    assert note.provider_message_id == fake_vendor.messages()[0]["id"]
    # The recording job is published at the first failure; with the longer outage it is the
    # one that records (the send job left it to it).
    handed = [r for r in caplog.records if "handed to record_notification_sent" in r.message]
    assert len(handed) == 1
    left = [r for r in caplog.records if "recording left to record_notification_sent" in r.message]
    assert bool(left) is handed_over
