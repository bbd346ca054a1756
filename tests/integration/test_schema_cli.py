"""`serve`, `worker` and `scheduler` refuse to start on a database not at the migration head:
one line on stderr naming the remedy, a non-zero exit, no traceback (real processes)."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from sqlalchemy import text

from infrastructure.db import migrate
from infrastructure.db.engine import create_engine
from tests.processes import CLI, ROOT, base_env
from tests.services import free_port, temporary_postgres_database

HEAD = migrate.heads()[0]
PREVIOUS = f"{int(HEAD) - 1:04d}"
# Never reached: the schema check comes before any broker or cache connection.
NO_REDIS = "redis://127.0.0.1:1/0"
COMMANDS = {"serve": ["serve"], "worker": ["worker", "--threads", "1"], "scheduler": ["scheduler"]}


def start(command: str, database_url: str) -> subprocess.CompletedProcess[str]:
    args = [*COMMANDS[command], *(["--port", str(free_port())] if command == "serve" else [])]
    env = base_env(VISAPI_DATABASE_URL=database_url)
    if command != "serve":
        env["VISAPI_REDIS_URL"] = NO_REDIS  # production mode: they refuse to run embedded
    return subprocess.run(
        [*CLI, *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=30
    )


def assert_refused(result: subprocess.CompletedProcess[str], command: str, *said: str) -> None:
    assert result.returncode != 0, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith(f"Error: visapi {command} cannot start: ")
    for words in said:
        assert words in lines[0]
    assert "Traceback" not in result.stdout + result.stderr


@pytest.mark.parametrize("command", list(COMMANDS))
def test_refuses_an_empty_database(command: str, tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'empty.db'}"
    assert_refused(start(command, url), command, "no schema", HEAD, "run `visapi migrate`")


@pytest.mark.parametrize("command", list(COMMANDS))
async def test_refuses_an_older_schema(command: str, sqlite_url: str) -> None:
    await migrate.downgrade_async(sqlite_url, PREVIOUS)
    result = start(command, sqlite_url)
    assert_refused(result, command, f"at migration {PREVIOUS}", "run `visapi migrate`")


async def test_refuses_a_schema_of_a_newer_release(sqlite_url: str) -> None:
    engine = create_engine(sqlite_url)
    try:
        async with engine.begin() as conn:
            await conn.execute(text("UPDATE alembic_version SET version_num = '9999'"))
    finally:
        await engine.dispose()
    assert_refused(start("scheduler", sqlite_url), "scheduler", "9999", "unknown to this release")


@pytest.mark.postgres
async def test_refuses_an_unmigrated_postgresql_database() -> None:
    async with temporary_postgres_database() as url:
        assert_refused(start("worker", url), "worker", "no schema", "run `visapi migrate`")
