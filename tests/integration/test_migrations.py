"""The Alembic chain on SQLite and PostgreSQL: one head, up/down/up, matches tables.py, seeds."""

from __future__ import annotations

import io
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, inspect, make_url, pool, select, text
from sqlalchemy.ext.asyncio import AsyncConnection, create_async_engine

from infrastructure.db import migrate
from infrastructure.db.tables import message_templates, metadata, translations
from infrastructure.db.tables.base import declared_for
from migrations.seed_data import template_rows, translation_rows
from tests.services import temporary_postgres_database

# DOMAIN.md "WhatsApp notifications": the template's 8 body parameters, in order.
ORDER_CONFIRMATION_PARAMETERS = [
    "customer_name",
    "destination",
    "flag_emoji",
    "order_number",
    "visa_type",
    "applicant_count",
    "amount",
    "processing_days",
]
PARTIAL_INDEXES = {
    "ix_orders_unprocessed",
    "ix_outbox_unpublished",
    "ix_outbox_published_at",
    "ix_failed_jobs_replayed_at",
    "ix_notifications_pending",
    "ix_contact_syncs_pending",
    "ix_workflows_enabled",
    "ix_logs_workflow_id_created_at",
    "ix_logs_job_id_created_at",
}


@asynccontextmanager
async def empty_database(dialect: str, directory: Path) -> AsyncIterator[str]:
    """A new empty database: a SQLite file under directory, or a fresh PostgreSQL database."""
    if dialect == "sqlite":
        yield f"sqlite+aiosqlite:///{directory / f'{uuid.uuid4().hex}.db'}"
        return
    async with temporary_postgres_database() as url:
        yield url


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
async def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[str]:
    async with empty_database(request.param, tmp_path) as url:
        yield url


@asynccontextmanager
async def connect(url: str) -> AsyncIterator[AsyncConnection]:
    engine = create_async_engine(url, poolclass=pool.NullPool)
    try:
        async with engine.connect() as connection:
            yield connection
    finally:
        await engine.dispose()


async def table_names(url: str) -> set[str]:
    async with connect(url) as connection:
        return set(await connection.run_sync(lambda sync: inspect(sync).get_table_names()))


def test_single_head_and_linear_history() -> None:
    script = ScriptDirectory.from_config(migrate.alembic_config("sqlite://"))
    revisions = list(script.walk_revisions())  # head first
    numbered = [f"{n:04d}" for n in range(len(revisions), 0, -1)]
    assert [r.revision for r in revisions] == numbered  # every file, one after the other
    assert migrate.heads() == [numbered[0]]
    assert all(not r.is_merge_point for r in revisions)


@pytest.mark.parametrize("url", ["sqlite+aiosqlite:///x.db", "postgresql+asyncpg://x@h/db"])
def test_offline_sql_script(url: str) -> None:
    """``alembic upgrade --sql``: a script to review and apply by hand, seeds included."""
    config = migrate.alembic_config(url)
    config.output_buffer = io.StringIO()
    command.upgrade(config, "head", sql=True)
    script = config.output_buffer.getvalue()
    assert script.count("INSERT INTO message_templates") == len(template_rows()) == 4
    assert script.count("INSERT INTO translations") == len(translation_rows())
    assert "ix_orders_unprocessed ON orders (created_at) WHERE processed_at IS NULL" in script


async def test_upgrade_downgrade_upgrade(database_url: str) -> None:
    expected = set(metadata.tables) | {"alembic_version"}

    await migrate.upgrade_async(database_url)
    assert await migrate.current_async(database_url) == migrate.heads()[0]
    assert await table_names(database_url) == expected

    await migrate.downgrade_async(database_url, "base")
    assert await migrate.current_async(database_url) is None
    assert await table_names(database_url) == {"alembic_version"}

    await migrate.upgrade_async(database_url)
    assert await migrate.current_async(database_url) == migrate.heads()[0]
    assert await table_names(database_url) == expected


def _sqlite_empty_string_default(difference: Any) -> bool:
    match difference:
        case [("modify_default", _, "notifications", "item", _, found, declared)]:
            # Reflected as "''", which Alembic then mistakes for an expression and wraps: "('')".
            return (
                str(getattr(found, "arg", None)) == "('')" and getattr(declared, "arg", None) == ""
            )
    return False


def _diff(connection: Connection) -> list[Any]:
    def include_object(item: Any, name: Any, kind: str, reflected: bool, other: Any) -> bool:
        # An index declared for PostgreSQL only (trigrams) is not missing on SQLite.
        return reflected or declared_for(item, connection.dialect.name)

    opts = {
        "compare_type": True,
        "compare_server_default": True,
        "include_object": include_object,
    }
    diff: list[Any] = compare_metadata(MigrationContext.configure(connection, opts=opts), metadata)
    if connection.dialect.name == "sqlite":
        # Alembic's SQLite default comparison unquotes with "'(.+)'", which cannot match an empty
        # string, so DEFAULT '' (notifications.item) always reads as changed. Only that is dropped.
        diff = [d for d in diff if not _sqlite_empty_string_default(d)]
    return diff


async def test_tables_match_migrations(database_url: str) -> None:
    await migrate.upgrade_async(database_url)
    async with connect(database_url) as connection:
        # Types, nullability, defaults, keys, indexes: any difference means tables.py and the
        # chain disagree (index predicates are checked separately, below).
        assert await connection.run_sync(_diff) == []


async def seeded_rows(url: str) -> tuple[list[Any], list[Any]]:
    async with connect(url) as connection:
        templates = list((await connection.execute(select(message_templates))).all())
        texts = list((await connection.execute(select(translations))).all())
    return templates, texts


async def test_seeded_templates_and_translations(database_url: str) -> None:
    await migrate.upgrade_async(database_url)
    templates, texts = await seeded_rows(database_url)

    by_language = {row.language: row for row in templates}
    assert set(by_language) == {"he", "en", "ru", "sv"}
    for row in templates:
        assert row.name == "order_confirmation_global"
        assert row.category == "utility"
        assert row.parameters == ORDER_CONFIRMATION_PARAMETERS
        assert all(f"{{{{{n}}}}}" in row.body_preview for n in range(1, 9))
        assert row.created_at is not None

    hebrew = {(row.kind, row.key): row.text for row in texts if row.language == "he"}
    assert hebrew[("country", "india")] == "הודו"
    assert hebrew[("visa_type", "eta")].startswith("אישור נסיעה")
    assert hebrew[("validity", "6_months")] == "לחצי שנה"
    assert hebrew[("processing_days", "3")] == "תוך 3 ימי עסקים"
    assert len(hebrew) == len(translation_rows()) == 17 + 7 + 11 + 9

    # Deterministic ids: the seed downgrade removes exactly its rows, a re-upgrade restores them.
    ids_before = {row.id for row in templates} | {row.id for row in texts}
    await migrate.downgrade_async(database_url, "0001")
    assert await seeded_rows(database_url) == ([], [])
    await migrate.upgrade_async(database_url)
    templates, texts = await seeded_rows(database_url)
    assert {row.id for row in templates} | {row.id for row in texts} == ids_before
    assert ids_before == {row["id"] for row in template_rows() + translation_rows()}


async def index_definitions(connection: AsyncConnection) -> dict[str, str]:
    """Index name -> CREATE INDEX statement as the database reports it (Alembic's own excluded)."""
    if connection.dialect.name == "postgresql":
        query = "SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = 'public'"
        query += " AND tablename <> 'alembic_version'"
    else:
        query = "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL"
    return dict((await connection.execute(text(query))).all())


async def test_indexes_match_tables(database_url: str, tmp_path: Path) -> None:
    """Alembic does not compare index predicates: compare the DDL with what tables.py creates."""
    await migrate.upgrade_async(database_url)
    async with connect(database_url) as connection:
        migrated = await index_definitions(connection)
    dialect = make_url(database_url).get_backend_name()
    async with empty_database(dialect, tmp_path) as twin, connect(twin) as connection:
        await connection.run_sync(metadata.create_all)
        await connection.commit()
        declared = await index_definitions(connection)

    assert migrated == declared
    partial = {name for name, definition in migrated.items() if " WHERE " in definition}
    assert partial == PARTIAL_INDEXES
