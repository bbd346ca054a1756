"""End-to-end fixtures: the app's settings in both modes, with the test identity provider."""

from __future__ import annotations

import uuid

import pytest

from app.main.settings import Settings
from tests.auth import with_auth


@pytest.fixture(params=["embedded", "production"])
def app_settings(request: pytest.FixtureRequest) -> Settings:
    """Embedded (SQLite, memory) or production (PostgreSQL, Redis in a fresh namespace)."""
    if request.param == "embedded":
        return with_auth(Settings(database_url=request.getfixturevalue("sqlite_url")))
    return with_auth(
        Settings(
            database_url=request.getfixturevalue("postgres_url"),
            redis_url=request.getfixturevalue("redis_url"),
            redis_namespace=f"visapi-e2e-{uuid.uuid4().hex[:10]}",
            db_pool_size=4,
        ),
        secret_key="e2e-shared-hmac-key-0123456789abcdef",
    )
