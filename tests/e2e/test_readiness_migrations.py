"""Readiness against the schema: a database not at this code's migration head is not ready."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import text

from infrastructure.db import migrate
from infrastructure.db.engine import create_engine
from infrastructure.db.revision import Migrations, SchemaCheck, current_revisions
from tests.services import temporary_postgres_database
from visapi.asgi import create_app
from visapi.settings import Settings

HEAD = migrate.heads()[0]


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
async def empty_url(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[str]:
    """A database nobody migrated, on each dialect."""
    if request.param == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path / 'empty.db'}"
        return
    async with temporary_postgres_database() as url:
        yield url


async def readyz(url: str) -> httpx.Response:
    app = create_app(Settings(database_url=url, db_pool_size=2))
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url="http://test") as client,
    ):
        return await client.get("/api/v1/readyz")


def assert_names_migrations(response: httpx.Response, *said: str) -> None:
    assert response.status_code == 503, response.text
    body = response.json()
    assert body["failing"] == ["migrations"]
    assert body["checks"]["database"] == "ok"  # it answers: only its schema is wrong
    for words in said:
        assert words in body["checks"]["migrations"]


async def test_an_unmigrated_database_is_not_ready(empty_url: str) -> None:
    assert_names_migrations(await readyz(empty_url), "no schema", HEAD, "run `visapi migrate`")
    await migrate.upgrade_async(empty_url)
    assert (await readyz(empty_url)).status_code == 200


async def test_a_downgraded_database_is_not_ready(db_url: str) -> None:
    previous = f"{int(HEAD) - 1:04d}"
    await migrate.downgrade_async(db_url, previous)
    assert_names_migrations(
        await readyz(db_url), f"at migration {previous}", f"needs {HEAD}", "visapi migrate"
    )


async def test_a_schema_from_a_newer_release_is_not_ready(sqlite_url: str) -> None:
    engine = create_engine(sqlite_url)
    try:
        async with engine.begin() as conn:
            await conn.execute(text("UPDATE alembic_version SET version_num = '9999'"))
    finally:
        await engine.dispose()
    assert_names_migrations(await readyz(sqlite_url), "9999", "unknown to this release")


async def test_the_revision_is_read_on_both_dialects(db_url: str, empty_url: str) -> None:
    migrations = Migrations.of_code()
    for url, expected in ((db_url, (HEAD,)), (empty_url, ())):
        engine = create_engine(url, pool_size=1)
        try:
            async with engine.connect() as conn:
                assert await current_revisions(conn) == expected
        finally:
            await engine.dispose()
    assert migrations.problem((HEAD,)) is None
    assert {HEAD, "0001"} <= migrations.known


async def test_only_the_head_is_remembered_and_briefly(sqlite_url: str) -> None:
    now = [0.0]
    check = SchemaCheck(Migrations.of_code(), cache_s=5.0, clock=lambda: now[0])
    engine = create_engine(sqlite_url)
    try:
        assert await check.problem(engine) is None
        await migrate.downgrade_async(sqlite_url, "0001")
        assert await check.problem(engine) is None  # remembered for 5 s: no query per probe
        now[0] = 5.0
        assert "at migration 0001" in (await check.problem(engine) or "")
        await migrate.upgrade_async(sqlite_url)
        assert await check.problem(engine) is None  # a schema behind is read again each time
    finally:
        await engine.dispose()
