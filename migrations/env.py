"""Alembic environment: one revision chain for SQLite and PostgreSQL, run on an async engine.

The URL comes from ``config.attributes["url"]`` (set by ``infrastructure.db.migrate``), else
``sqlalchemy.url`` in the config, else ``VISAPI_DATABASE_URL``, else a local SQLite file.
A caller may instead hand over an open sync connection in ``config.attributes["connection"]``.
"""

from __future__ import annotations

import asyncio
import os
from typing import Any

from alembic import context
from sqlalchemy import pool
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import create_async_engine

from infrastructure.db.tables import metadata
from infrastructure.db.tables.base import declared_for

DEFAULT_URL = "sqlite+aiosqlite:///./visapi.db"

config = context.config
target_metadata = metadata


def database_url() -> str:
    return str(
        config.attributes.get("url")
        or config.get_main_option("sqlalchemy.url")
        or os.environ.get("VISAPI_DATABASE_URL")
        or DEFAULT_URL
    )


def include_object(item: Any, name: str | None, kind: str, reflected: bool, other: Any) -> bool:
    """Autogenerate compares an index declared for one dialect only on that dialect."""
    return reflected or declared_for(item, context.get_context().dialect.name)


def _configure(**kwargs: Any) -> None:
    context.configure(
        target_metadata=target_metadata,
        compare_type=True,
        include_object=include_object,
        **kwargs,
    )


def run_migrations(connection: Connection) -> None:
    # SQLite cannot ALTER most things in place; batch mode rewrites the table instead.
    _configure(connection=connection, render_as_batch=connection.dialect.name == "sqlite")
    with context.begin_transaction():
        context.run_migrations()


async def run_async_migrations(url: str) -> None:
    # NullPool: a migration run is one connection, and nothing should outlive it.
    engine = create_async_engine(url, poolclass=pool.NullPool)
    try:
        async with engine.connect() as connection:
            await connection.run_sync(run_migrations)
            await connection.commit()
    finally:
        await engine.dispose()


def run_migrations_offline() -> None:
    url = database_url()
    _configure(
        url=url,
        literal_binds=True,
        dialect_opts={"paramstyle": "named"},
        render_as_batch=url.startswith("sqlite"),
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        run_migrations(connection)
        return
    # Called synchronously (CLI, or from a worker thread via migrate.upgrade_async).
    asyncio.run(run_async_migrations(database_url()))


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
