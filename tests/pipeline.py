"""Support of the pipeline tests: storefront bodies, and a container with fake vendors."""

from __future__ import annotations

import copy
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from uuid import UUID

from sqlalchemy import select

from app.orders.commands import CreateOrder, OrderAccepted
from infrastructure.cache.memory import MemoryCache
from infrastructure.db.tables import notifications, outbox
from tests.fakes import FakeContactSync, FakeMessaging
from visapi.bootstrap import Container, bootstrap
from visapi.settings import Settings

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "vizi-orders"


def body(name: str = "il-uk-eta.json", **client: Any) -> dict[str, Any]:
    data = copy.deepcopy(json.loads((FIXTURES / name).read_text()))
    data["form"]["client"].update(client)
    return data


@dataclass
class Pipeline:
    c: Container
    crm: FakeContactSync
    wa: FakeMessaging

    async def order(self, payload: dict[str, Any]) -> UUID:
        outcome = await self.c.bus.handle(CreateOrder(payload=payload))
        assert isinstance(outcome, OrderAccepted)
        return outcome.order.id

    async def rows(self, query: Any) -> list[Any]:
        async with self.c.engine.connect() as conn:
            return list((await conn.execute(query)).all())

    async def notes(self, order_uuid: UUID) -> list[Any]:
        query = select(notifications).where(notifications.c.order_uuid == order_uuid)
        return await self.rows(query.order_by(notifications.c.created_at))

    async def jobs(self, actor: str) -> list[Any]:
        return await self.rows(select(outbox).where(outbox.c.actor == actor))

    async def execute(self, statement: Any) -> None:
        async with self.c.engine.begin() as conn:
            await conn.execute(statement)


async def pipeline(settings: Settings) -> AsyncIterator[Pipeline]:
    """The `p` fixture: a container on the test database with fake CRM and messaging."""
    crm, wa = FakeContactSync(), FakeMessaging()
    c = bootstrap(settings, cache=MemoryCache(), contacts=crm, messaging=wa)
    try:
        yield Pipeline(c, crm, wa)
    finally:
        await c.aclose()
