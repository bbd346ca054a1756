"""Shared fixtures: migrated SQLite and PostgreSQL databases, settings and a bootstrapped container.

PostgreSQL tests get a fresh database cloned from a migrated template (CREATE DATABASE ...
TEMPLATE), so each test starts from the migrated schema in ~100 ms without re-running Alembic.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import create_async_engine

from infrastructure.db.migrate import upgrade_async
from tests.services import postgres_url_or_skip, redis_url_or_skip
from tests.vendor import FakeVendor, fake_vendor_server
from visapi.settings import Settings

ROOT = Path(__file__).resolve().parents[1]


async def _admin(sql: str, admin_url: str) -> None:
    engine = create_async_engine(admin_url, isolation_level="AUTOCOMMIT")
    try:
        async with engine.connect() as conn:
            await conn.execute(text(sql))
    finally:
        await engine.dispose()


@pytest.fixture(scope="session")
def postgres_admin_url() -> str:
    return postgres_url_or_skip()


@pytest.fixture(scope="session")
async def postgres_template(postgres_admin_url: str) -> AsyncIterator[str]:
    """A migrated database used as the template of every test database; dropped at the end."""
    name = f"visapi_tmpl_{uuid.uuid4().hex[:10]}"
    await _admin(f'CREATE DATABASE "{name}"', postgres_admin_url)
    url = make_url(postgres_admin_url).set(database=name).render_as_string(hide_password=False)
    try:
        await upgrade_async(url)
        yield name
    finally:
        await _admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)', postgres_admin_url)


@pytest.fixture
async def postgres_url(postgres_admin_url: str, postgres_template: str) -> AsyncIterator[str]:
    name = f"visapi_test_{uuid.uuid4().hex[:10]}"
    await _admin(f'CREATE DATABASE "{name}" TEMPLATE "{postgres_template}"', postgres_admin_url)
    try:
        yield make_url(postgres_admin_url).set(database=name).render_as_string(hide_password=False)
    finally:
        await _admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)', postgres_admin_url)


@pytest.fixture(scope="session")
async def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("sqlite") / "template.db"
    await upgrade_async(f"sqlite+aiosqlite:///{path}")
    return path


@pytest.fixture
def sqlite_url(sqlite_template: Path, tmp_path: Path) -> str:
    path = tmp_path / "visapi.db"
    path.write_bytes(sqlite_template.read_bytes())
    return f"sqlite+aiosqlite:///{path}"


@pytest.fixture(params=["sqlite", "postgres"])
def db_url(request: pytest.FixtureRequest) -> str:
    """Run the test on both dialects."""
    fixture = "sqlite_url" if request.param == "sqlite" else "postgres_url"
    return str(request.getfixturevalue(fixture))


@pytest.fixture
def redis_url() -> str:
    return redis_url_or_skip()


@pytest.fixture
def settings(db_url: str) -> Settings:
    """Embedded-mode settings (memory cache, StubBroker) on the parametrised database."""
    return Settings(database_url=db_url, redis_url=None, db_pool_size=5)


@pytest.fixture(scope="session")
def fake_vendor_session() -> Iterator[FakeVendor]:
    with fake_vendor_server() as fake:
        yield fake


@pytest.fixture
def fake_vendor(fake_vendor_session: FakeVendor) -> FakeVendor:
    """The fake CBB/Slack server (tests/vendor.py), emptied and unscripted for this test."""
    fake_vendor_session.reset()
    return fake_vendor_session
