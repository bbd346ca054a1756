"""A unit of work whose PostgreSQL database went away (connections dropped by a crash or a
restart, or refused while it is down) raises `Unavailable`, a passing failure that HTTP answers
with 503 and jobs retry, not a driver error that became a 500 (the fault run's one 500)."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy.engine import make_url

from app.errors import Unavailable
from infrastructure.cache.memory import MemoryCache
from tests.outages import DatabaseOutage
from visapi.bootstrap import bootstrap
from visapi.settings import Settings

pytestmark = pytest.mark.postgres


def outage_of(postgres_url: str, admin_url: str) -> DatabaseOutage:
    database = make_url(postgres_url).database
    assert database is not None
    return DatabaseOutage(admin_url, database)


async def test_a_unit_on_a_dropped_or_refused_connection_is_unavailable(
    postgres_url: str, postgres_admin_url: str
) -> None:
    outage = outage_of(postgres_url, postgres_admin_url)
    c = bootstrap(Settings(database_url=postgres_url, db_pool_size=2), cache=MemoryCache())
    try:
        async with c.uow() as unit:  # a pooled connection, then dropped under the pool
            assert await unit.orders.get(uuid.uuid4()) is None
        await outage.drop_connections()
        with pytest.raises(Unavailable, match="database is unavailable"):
            async with c.uow() as unit:
                await unit.orders.get(uuid.uuid4())

        await outage.cut()  # refused while it is down
        with pytest.raises(Unavailable, match="database is unavailable"):
            async with c.uow() as unit:
                await unit.orders.get(uuid.uuid4())

        await outage.restore()
        async with c.uow() as unit:  # and back once it is up again
            assert await unit.orders.get(uuid.uuid4()) is None
    finally:
        await outage.restore()
        await c.aclose()
