"""A PostgreSQL database made unreachable for a while, as a crash or a restart makes it: new
connections refused, those it has terminated. The other databases of the server are untouched."""

from __future__ import annotations

import asyncio
import threading

from sqlalchemy import pool, text
from sqlalchemy.ext.asyncio import create_async_engine


class DatabaseOutage:
    """Makes one database refuse connections and drops those it has, for `seconds`."""

    def __init__(self, admin_url: str, database: str, seconds: float = 0.0) -> None:
        self._admin_url, self._database, self._seconds = admin_url, database, seconds
        self.over = threading.Event()

    async def _admin(self, *statements: str) -> None:
        engine = create_async_engine(
            self._admin_url, poolclass=pool.NullPool, isolation_level="AUTOCOMMIT"
        )
        try:
            async with engine.connect() as conn:
                for statement in statements:
                    await conn.execute(text(statement), {"db": self._database})
        finally:
            await engine.dispose()

    async def begin(self) -> asyncio.Task[None]:
        """Cut the database now; a task brings it back after `seconds`."""
        await self.cut()
        return asyncio.create_task(self._end())

    async def cut(self) -> None:
        await self._admin(
            f'ALTER DATABASE "{self._database}" ALLOW_CONNECTIONS false',
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = :db",
        )

    async def drop_connections(self) -> None:
        """Terminate the connections the database has, as a restart does; new ones may come."""
        await self._admin(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = :db"
        )

    async def _end(self) -> None:
        await asyncio.sleep(self._seconds)  # the outage itself: how long the database is away
        await self.restore()
        self.over.set()

    async def restore(self) -> None:
        await self._admin(f'ALTER DATABASE "{self._database}" ALLOW_CONNECTIONS true')
