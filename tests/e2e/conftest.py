"""End-to-end fixtures: the app's settings in both modes, with the test identity provider."""

from __future__ import annotations

import shutil
import subprocess
import uuid
from collections.abc import Iterator

import pytest

from tests.auth import with_auth
from tests.services import free_port, listening
from tests.waiting import until
from visapi.settings import Settings


@pytest.fixture(params=["embedded", "production"])
def app_settings(request: pytest.FixtureRequest) -> Settings:
    """Embedded (SQLite, memory) or production (PostgreSQL, Redis in a fresh namespace)."""
    if request.param == "embedded":
        return with_auth(Settings(database_url=request.getfixturevalue("sqlite_url")))
    settings: Settings = request.getfixturevalue("production_settings")
    return settings


@pytest.fixture
def production_settings(postgres_url: str, redis_url: str) -> Settings:
    return with_auth(
        Settings(
            database_url=postgres_url,
            redis_url=redis_url,
            redis_namespace=f"visapi-e2e-{uuid.uuid4().hex[:10]}",
            db_pool_size=4,
        ),
        # Every API process of a deployment shares it, so they share cached key checks.
        secret_key="e2e-shared-hmac-key-0123456789abcdef",
    )


@pytest.fixture
def private_redis() -> Iterator[tuple[subprocess.Popen[bytes], str]]:
    """A Redis server of this test's own, so stopping it disturbs nothing else."""
    binary = shutil.which("redis-server")
    if binary is None:
        pytest.skip("redis-server is not installed")
    port = free_port()
    process = subprocess.Popen(
        [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
        stdout=subprocess.DEVNULL,
    )
    try:
        until(lambda: listening(port, process), timeout_s=10, why="redis-server did not start")
        yield process, f"redis://127.0.0.1:{port}/0"
    finally:
        process.kill()
        process.wait(timeout=10)
