"""Test services (PostgreSQL, Redis): reachability checks and throwaway PostgreSQL databases.

Outside CI a missing service skips the tests that need it (`pytest -rs` prints why); under
``CI=true`` it fails them, so a broken CI machine cannot pass by skipping everything.
"""

from __future__ import annotations

import functools
import os
import socket
import subprocess
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import NoReturn
from urllib.parse import urlsplit

import pytest
from sqlalchemy import make_url, pool, text
from sqlalchemy.ext.asyncio import create_async_engine

DEFAULT_POSTGRES_URL = "postgresql+asyncpg://postgres@127.0.0.1:5432/postgres"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/0"


@functools.cache
def _reachable(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=1.0):
            return True
    except OSError:
        return False


def unavailable(reason: str) -> NoReturn:
    """Skip with `reason`, or fail under CI=true (a service or tool the tests need)."""
    if os.environ.get("CI") == "true":
        pytest.fail(f"{reason} (CI=true: services are required)", pytrace=False)
    # The reason appears in pytest's summary with -rs (or -ra).
    pytest.skip(reason)


def postgres_url_or_skip() -> str:
    """Admin URL of the test PostgreSQL server (VISAPI_TEST_POSTGRES_URL), once it answers."""
    url = os.environ.get("VISAPI_TEST_POSTGRES_URL", DEFAULT_POSTGRES_URL)
    parsed = make_url(url)
    host, port = parsed.host or "127.0.0.1", parsed.port or 5432
    if not _reachable(host, port):
        unavailable(f"PostgreSQL unreachable at {host}:{port}")
    return url


def redis_url_or_skip() -> str:
    """URL of the test Redis server (VISAPI_TEST_REDIS_URL), once it answers."""
    url = os.environ.get("VISAPI_TEST_REDIS_URL", DEFAULT_REDIS_URL)
    parsed = urlsplit(url)
    host, port = parsed.hostname or "127.0.0.1", parsed.port or 6379
    if not _reachable(host, port):
        unavailable(f"Redis unreachable at {host}:{port}")
    return url


@asynccontextmanager
async def temporary_postgres_database() -> AsyncIterator[str]:
    """Create an empty database with a random name, yield its URL, drop it afterwards.

    The drop uses WITH (FORCE) (PostgreSQL 13+) so a connection leaked by a failing test cannot
    leave the database behind.
    """
    admin_url = make_url(postgres_url_or_skip())
    name = f"visapi_test_{uuid.uuid4().hex[:16]}"
    admin = create_async_engine(admin_url, poolclass=pool.NullPool, isolation_level="AUTOCOMMIT")
    try:
        async with admin.connect() as connection:
            await connection.execute(text(f'CREATE DATABASE "{name}"'))
        try:
            yield admin_url.set(database=name).render_as_string(hide_password=False)
        finally:
            async with admin.connect() as connection:
                await connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    finally:
        await admin.dispose()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def listening(port: int, process: subprocess.Popen[bytes] | None = None) -> bool:
    """Whether 127.0.0.1:`port` accepts connections; fails at once if `process` has exited."""
    if process is not None:
        assert process.poll() is None, f"{process.args!r} exited with {process.returncode}"
    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", port)) == 0
