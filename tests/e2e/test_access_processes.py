"""Access across processes: revoke and rotate evict the cached check on every API process (two
app instances sharing Redis, then two real `visapi serve` processes); usage over HTTP reaches
`last_used_at` only at the flush, in one statement; `serve` shows a first admin key once."""

from __future__ import annotations

import asyncio
import subprocess
import uuid
from collections.abc import Iterator
from contextlib import AsyncExitStack, contextmanager
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import event, select, update
from sqlalchemy.ext.asyncio import AsyncEngine

from app.maintenance import RunMaintenance
from app.periodic import current_tick
from infrastructure.db.engine import create_engine
from infrastructure.db.migrate import upgrade
from infrastructure.db.schedule import claim_tick
from infrastructure.db.tables import api_keys
from tests.auth import key, running
from tests.processes import CLI, ROOT, base_env, servers
from visapi.scheduler import periodic_runner
from visapi.settings import Settings

ME = {"query": "{ me { name } }"}
REVOKE = "mutation($id: ID!) { revokeApiKey(id: $id) { revokedAt } }"


async def break_stored_hash(engine: AsyncEngine, prefix: str) -> None:
    """From now on the key can only pass from a cached check: its stored hash is garbage."""
    async with engine.begin() as conn:
        await conn.execute(
            update(api_keys).where(api_keys.c.prefix == prefix).values(hashed_secret="broken")
        )


async def test_two_app_processes_share_checks_and_see_a_revoke_at_once(
    production_settings: Settings,
) -> None:
    # Two API processes need Redis: embedded mode is one process by design.
    async with AsyncExitStack() as stack:
        a, client_a = await stack.enter_async_context(running(production_settings))
        b, client_b = await stack.enter_async_context(running(production_settings))
        admin = {"X-API-Key": await key(a, "admin")}
        issued = await key(a, "orders:read", name="shared")
        used = {"X-API-Key": issued}
        for client in (client_a, client_b):
            assert (await client.post("/graphql", json=ME, headers=used)).status_code == 200
        await break_stored_hash(a.engine, issued.split(".")[0])
        for client in (client_a, client_b, client_b):  # both serve it from the shared cache
            assert (await client.post("/graphql", json=ME, headers=used)).status_code == 200
        listed = await client_a.post(
            "/graphql", json={"query": "{ apiKeys { edges { node { id name } } } }"}, headers=admin
        )
        [key_id] = [
            e["node"]["id"]
            for e in listed.json()["data"]["apiKeys"]["edges"]
            if e["node"]["name"] == "shared"
        ]
        revoked = await client_a.post(
            "/graphql", json={"query": REVOKE, "variables": {"id": key_id}}, headers=admin
        )
        assert revoked.json()["data"]["revokeApiKey"]["revokedAt"]
        refused = await client_b.post("/graphql", json=ME, headers=used)  # the other process
        assert refused.status_code == 401
        assert b is not a


@contextmanager
def statements(engine: AsyncEngine) -> Iterator[list[str]]:
    seen: list[str] = []

    def record(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        seen.append(" ".join(statement.split()).upper())

    event.listen(engine.sync_engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(engine.sync_engine, "before_cursor_execute", record)


async def test_requests_write_nothing_until_the_flush_then_one_statement(
    app_settings: Settings,
) -> None:
    assert Settings().key_usage_flush_interval_s == 300  # every five minutes by default
    # Embedded serve runs the periodic jobs itself, first at start, racing the requests: here
    # the interval is a day and today's tick is already claimed (as by another scheduler).
    settings = replace(app_settings, key_usage_flush_interval_s=86_400)
    engine = create_engine(settings.database_url, pool_size=1)
    try:
        tick = current_tick(datetime.now(UTC), 86_400)
        assert await claim_tick(engine, "flush_key_usage", tick, claimer="test")
    finally:
        await engine.dispose()
    async with running(settings) as (container, client):
        keys = [await key(container, "orders:read", name=f"k{n}") for n in range(2)]
        with statements(container.engine) as seen:
            for n in range(40):
                headers = {"X-API-Key": keys[n % 2]}
                assert (await client.post("/graphql", json=ME, headers=headers)).status_code == 200
            # (Embedded serve's runner claims other jobs' ticks meanwhile: api_keys only.)
            assert [s for s in seen if "API_KEYS" in s and not s.startswith("SELECT")] == []
            seen.clear()
            # What `visapi scheduler` (or embedded serve) enqueues on each tick, as a worker
            # runs it.
            [job] = [j for j in periodic_runner(container).jobs if j.name == "flush_key_usage"]
            assert job.interval_s == 86_400
            assert await container.bus.handle(RunMaintenance("flush_key_usage")) == 2
            assert len([s for s in seen if s.startswith("UPDATE API_KEYS")]) == 1
            # Nothing else touches api_keys (the embedded runner's other jobs may write elsewhere).
            assert [
                s
                for s in seen
                if "API_KEYS" in s and not s.startswith(("SELECT", "UPDATE API_KEYS"))
            ] == []
        async with container.engine.connect() as conn:
            used = (await conn.execute(select(api_keys.c.last_used_at))).scalars().all()
        assert all(u is not None for u in used)


@pytest.mark.postgres
@pytest.mark.redis
def test_two_real_servers_see_a_revoke_and_a_rotation_at_once(
    postgres_url: str, redis_url: str, tmp_path: Path
) -> None:
    env = base_env(
        VISAPI_DATABASE_URL=postgres_url,
        VISAPI_REDIS_URL=redis_url,
        VISAPI_REDIS_NAMESPACE=f"visapi-procs-{uuid.uuid4().hex[:8]}",
        VISAPI_SECRET_KEY="shared-between-processes-0123456789",
    )
    created = subprocess.run(
        [*CLI, "keys", "create", "--name", "ops", "--scopes", "admin"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    admin = created.stdout.strip()
    assert admin.startswith("vk_")
    assert admin not in created.stderr  # stdout carries the key, stderr only its prefix
    assert admin.split(".")[0] in created.stderr

    with servers(env, tmp_path, 2) as (a, b):
        for base in (a, b):
            me = httpx.post(f"{base}/graphql", json=ME, headers={"X-API-Key": admin})
            assert me.json() == {"data": {"me": {"name": "ops"}}}
        make = (
            'mutation { createApiKey(name: "x", scopes: ["orders:read"]) { secret apiKey { id } } }'
        )
        issued = httpx.post(f"{a}/graphql", json={"query": make}, headers={"X-API-Key": admin})
        data = issued.json()["data"]["createApiKey"]
        used = {"X-API-Key": data["secret"]}
        prefix = data["secret"].split(".")[0]
        for base in (a, b):
            assert httpx.post(f"{base}/graphql", json=ME, headers=used).status_code == 200
        asyncio.run(broken_hash(postgres_url, prefix))
        # Both answer from the shared cache: without an eviction they would for 15 minutes.
        assert httpx.post(f"{b}/graphql", json=ME, headers=used).status_code == 200
        rotate = "mutation($id: ID!) { rotateApiKey(id: $id) { secret } }"
        rotated = httpx.post(
            f"{a}/graphql",
            json={"query": rotate, "variables": {"id": data["apiKey"]["id"]}},
            headers={"X-API-Key": admin},
        ).json()["data"]["rotateApiKey"]["secret"]
        assert httpx.post(f"{b}/graphql", json=ME, headers=used).status_code == 401
        fresh = {"X-API-Key": rotated}
        assert httpx.post(f"{b}/graphql", json=ME, headers=fresh).status_code == 200
        asyncio.run(broken_hash(postgres_url, prefix))
        assert httpx.post(f"{b}/graphql", json=ME, headers=fresh).status_code == 200  # cached
        revoke = {"query": REVOKE, "variables": {"id": data["apiKey"]["id"]}}
        httpx.post(f"{a}/graphql", json=revoke, headers={"X-API-Key": admin})
        assert httpx.post(f"{b}/graphql", json=ME, headers=fresh).status_code == 401


async def broken_hash(url: str, prefix: str) -> None:
    engine = create_engine(url, pool_size=1)
    try:
        await break_stored_hash(engine, prefix)
    finally:
        await engine.dispose()


def test_serve_shows_a_first_admin_key_once_on_an_empty_embedded_database(
    tmp_path: Path,
) -> None:
    database = f"sqlite+aiosqlite:///{tmp_path / 'visapi.db'}"
    upgrade(database)
    env = base_env(VISAPI_DATABASE_URL=database)
    with servers(env, tmp_path, 1) as (base,):
        printed = (tmp_path / "serve-0.log").read_text()
        [line] = [ln for ln in printed.splitlines() if ln.strip().startswith("vk_")]
        first = line.strip()
        me = httpx.post(f"{base}/graphql", json={"query": "{ me { name permissions } }"},
                        headers={"X-API-Key": first})  # fmt: skip
        assert me.json()["data"]["me"]["name"] == "first admin"
        assert "admin" in me.json()["data"]["me"]["permissions"]
    with servers(env, tmp_path, 1):
        again = (tmp_path / "serve-0.log").read_text()
    assert "vk_" not in again  # shown once: the database has a key now
