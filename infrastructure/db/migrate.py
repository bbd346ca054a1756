"""Programmatic Alembic: upgrade, downgrade and inspect the schema of a database by URL.

No alembic.ini: the script location is the installed ``migrations`` package, and the URL travels
in ``Config.attributes`` (never through configparser, which would choke on ``%`` in passwords).
The sync functions run their own event loop; from async code use the ``*_async`` variants, which
move the work to a thread so the caller's loop keeps running.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, pool
from sqlalchemy.ext.asyncio import create_async_engine

import migrations

SCRIPT_LOCATION = Path(migrations.__file__).resolve().parent


def alembic_config(url: str) -> Config:
    config = Config()
    # configparser interpolates "%"; escape it in the one option that goes through it.
    config.set_main_option("script_location", str(SCRIPT_LOCATION).replace("%", "%%"))
    config.attributes["url"] = url
    return config


def upgrade(url: str, revision: str = "head") -> None:
    command.upgrade(alembic_config(url), revision)


def downgrade(url: str, revision: str) -> None:
    command.downgrade(alembic_config(url), revision)


def heads() -> list[str]:
    """Head revisions of the chain; exactly one when the history is linear."""
    script = ScriptDirectory.from_config(alembic_config("sqlite://"))
    return list(script.get_heads())


def _current_revision(connection: Connection) -> str | None:
    return MigrationContext.configure(connection).get_current_revision()


async def current_async(url: str) -> str | None:
    engine = create_async_engine(url, poolclass=pool.NullPool)
    try:
        async with engine.connect() as connection:
            return await connection.run_sync(_current_revision)
    finally:
        await engine.dispose()


def current(url: str) -> str | None:
    """The revision the database is at, or None for an unmigrated database."""
    return asyncio.run(current_async(url))


async def upgrade_async(url: str, revision: str = "head") -> None:
    await asyncio.to_thread(upgrade, url, revision)


async def downgrade_async(url: str, revision: str) -> None:
    await asyncio.to_thread(downgrade, url, revision)
