"""Meta's delivery statuses reach subscribers: a status that moves an order confirmation
forward is announced (CONFIRMATION_DELIVERED, then _READ) once applied; one that moves nothing
(stale, or unmatched) is not. Both modes: memory hub, Redis pub/sub."""

from __future__ import annotations

import asyncio
import uuid
from datetime import timedelta

from sqlalchemy import update

from app.live import Notice, Topic
from domain.notifications.confirmation import KIND as CONFIRMATION
from infrastructure.db.tables import notifications
from infrastructure.live.redis import RedisLive
from tests.e2e.whatsapp_support import (
    SENT,
    configured,
    envelope,
    meta,
    post,
    sent_notification,
    status,
)
from tests.waiting import eventually
from visapi.settings import Settings


async def test_statuses_that_move_a_confirmation_are_announced(app_settings: Settings) -> None:
    async with meta(configured(app_settings)) as (container, http):
        listener = container.live.listen(Topic.ORDERS)
        if isinstance(container.live, RedisLive):
            await eventually(container.live.connected.is_set, why="never subscribed to Redis")
        note = await sent_notification(container, wamid="wamid.LIVE1", item="live")
        async with container.engine.begin() as conn:
            moved = await conn.execute(
                update(notifications)
                .where(notifications.c.id == note)
                .values(kind=CONFIRMATION)
                .returning(notifications.c.order_uuid)
            )
            order = str(moved.scalar_one())
        later = SENT + timedelta(minutes=1)
        for body in (
            envelope(status("wamid.LIVE1", "delivered", later)),
            envelope(status("wamid.LIVE1", "delivered", later)),  # stale: nothing new
            envelope(status("wamid.NOBODY", "read", later, phone="972000000000")),  # unmatched
            envelope(status("wamid.LIVE1", "read", later + timedelta(minutes=1))),
        ):
            assert (await post(http, body)).status_code == 200
        heard: list[Notice] = []

        async def both() -> bool:
            while True:
                try:
                    notice = await asyncio.wait_for(anext(listener), 0.2)
                except TimeoutError:
                    break
                # The embedded worker queues and sends the order's own confirmation meanwhile.
                if notice.subject == order and notice.kind.endswith(("delivered", "read")):
                    heard.append(notice)
            return len(heard) >= 2

        await eventually(both, why=lambda: f"heard only {heard}")
        listener.close()
    assert [n.kind for n in heard] == ["confirmation_delivered", "confirmation_read"]
    assert uuid.UUID(order)
