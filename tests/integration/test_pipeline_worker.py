"""The order pipeline through a real Dramatiq worker (StubBroker), on both dialects: a new il
order is synced and confirmed once; other orders are synced without a confirmation."""

from __future__ import annotations

import dramatiq
from sqlalchemy import select

from app.orders.commands import CreateOrder, OrderAccepted
from infrastructure.cache.memory import MemoryCache
from infrastructure.db.tables import contact_syncs, failed_jobs, notifications, outbox
from infrastructure.queue.broker import create_broker
from infrastructure.vendors.sandbox import SandboxContactSync, SandboxMessaging
from tests.integration.test_actors import drain, fast
from tests.pipeline import body
from visapi.bootstrap import bootstrap
from visapi.settings import Settings
from visapi.worker import EmbeddedWorker


async def test_il_order_is_synced_and_confirmed_once_and_redelivery_sends_nothing(
    settings: Settings,
) -> None:
    settings = fast(settings)
    broker = create_broker(settings)
    crm, wa = SandboxContactSync(), SandboxMessaging()
    api = bootstrap(settings, broker=broker, contacts=crm, messaging=wa)
    worker = EmbeddedWorker(
        broker,
        lambda b: bootstrap(settings, broker=b, cache=MemoryCache(), contacts=crm, messaging=wa),
        worker_timeout_ms=50,
    )
    worker.start()
    try:
        il = await api.bus.handle(CreateOrder(payload=body()))
        se = await api.bus.handle(
            CreateOrder(payload=body("se-india-uppercase-branch-extra-keys.json"))
        )
        assert isinstance(il, OrderAccepted)
        assert isinstance(se, OrderAccepted)
        await drain(broker, worker)
        [sent] = wa.messages()
        message = sent.message
        assert message.phone == "972541112233"
        assert len(message.params) == 8
        assert message.params[3] == "IL251101GB07"
        async with api.engine.connect() as conn:
            [note] = (await conn.execute(select(notifications))).all()
            [sync] = (await conn.execute(select(contact_syncs))).all()
            [job] = (
                await conn.execute(select(outbox).where(outbox.c.actor == "send_notification"))
            ).all()
        assert (note.status, note.order_uuid, note.attempts) == ("sent", il.order.id, 1)
        assert (sync.order_uuid, sync.synced) == (il.order.id, True)  # se: no sync job at all
        # The same message again, as a broker redelivers it: nothing more is sent.
        broker.enqueue(
            dramatiq.Message(
                queue_name="critical",
                actor_name="send_notification",
                args=(),
                kwargs=job.arguments,
                options={},
                message_id=str(job.id),
            )
        )
        await drain(broker, worker)
        assert len(wa.messages()) == 1
        async with api.engine.connect() as conn:
            assert (await conn.execute(select(failed_jobs))).all() == []
    finally:
        worker.stop()
        await api.aclose()
