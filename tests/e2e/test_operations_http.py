"""cacheStats, flushCache, warmCache and replayEvents over HTTP: results, permissions, bad input,
and a replay that re-runs a sync without syncing or confirming twice."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from sqlalchemy import func, select

from infrastructure.db.tables import contact_syncs, outbox, sandbox_messages
from tests.auth import codes, errors_of, key, running, token
from tests.e2e.gql_support import gql
from tests.scrape import create_order, order_body, scrape
from tests.waiting import eventually
from visapi.settings import Settings

STATS = "{ cacheStats { prefix hits misses ratio } }"
FLUSH = "mutation($p: String!) { flushCache(pattern: $p) }"
WARM = "mutation { warmCache { prefix name items } }"
REPLAY = """mutation($from: DateTime!, $to: DateTime!, $types: [String!]) {
  replayEvents(from: $from, to: $to, types: $types) { type events jobs skipped } }"""
ORDER_STATS = "{ orderStats(groupBy: BRANCH) { key count } }"
WIDE = {"from": "2020-01-01T00:00:00Z", "to": "2030-01-01T00:00:00Z"}


def by_prefix(response: httpx.Response) -> dict[str, dict[str, Any]]:
    return {s["prefix"]: s for s in response.json()["data"]["cacheStats"]}


async def test_stats_flush_and_warm(app_settings: Settings) -> None:
    # The read cache's stats: without the response cache, whose hits read no prefix.
    async with running(replace(app_settings, response_cache=False)) as (container, client):
        admin = {"X-API-Key": await key(container, "cache:admin", "orders:read")}
        fresh = by_prefix(await gql(client, STATS, admin))
        assert fresh["order-stats"] == {"prefix": "order-stats", "hits": 0, "misses": 0,
                                        "ratio": None}  # fmt: skip
        assert {"order", "orders", "order-stats", "api-key-checks", "users"} <= set(fresh)

        for _ in range(2):
            await gql(client, ORDER_STATS, admin)
        stats = by_prefix(await gql(client, STATS, admin))["order-stats"]
        assert (stats["hits"], stats["misses"], stats["ratio"]) == (1, 1, 0.5)

        flushed = await gql(client, FLUSH, admin, p="order-stats:*")
        assert flushed.json()["data"]["flushCache"] == ["order-stats"]
        await gql(client, ORDER_STATS, admin)  # evicted: a miss again
        assert by_prefix(await gql(client, STATS, admin))["order-stats"]["misses"] == 2
        everything = await gql(client, FLUSH, admin, p="*")
        assert set(everything.json()["data"]["flushCache"]) == set(fresh)

        writer = {"X-API-Key": await key(container, "orders:write")}
        await create_order(client, writer, order_body())
        await create_order(client, writer, order_body("se-india-uppercase-branch-extra-keys.json"))
        warmed = (await gql(client, WARM, admin)).json()["data"]["warmCache"]
        assert {(w["prefix"], w["name"], w["items"]) for w in warmed} == {
            ("orders", "unprocessed orders, first 20", 2),
            ("orders", "unprocessed orders count", 2),
            ("order-stats", "order stats by branch", 2),
            ("order-stats", "order stats by status", 1),
            ("workflows-enabled", "enabled workflows", 0),
        }
        before = by_prefix(await gql(client, STATS, admin))["order-stats"]
        answer = (await gql(client, ORDER_STATS, admin)).json()["data"]["orderStats"]
        assert sorted((b["key"], b["count"]) for b in answer) == [("il", 1), ("se", 1)]
        after = by_prefix(await gql(client, STATS, admin))["order-stats"]
        assert (after["hits"], after["misses"]) == (before["hits"] + 1, before["misses"])
        # cacheStats agrees with the scraped metrics.
        samples = await scrape(client)
        assert samples.get_value("visapi_cache_hits_total", prefix="order-stats") == after["hits"]


async def test_bad_patterns_name_the_known_prefixes(app_settings: Settings) -> None:
    async with running(app_settings) as (container, client):
        admin = {"X-API-Key": await key(container, "admin")}
        for pattern in ("nope:*", "ord*", "", "orders:x:*"):
            response = await gql(client, FLUSH, admin, p=pattern)
            [error] = errors_of(response)
            assert error["extensions"] == {"code": "INVALID_INPUT", "field": "pattern"}, pattern
            assert "known prefixes: order, orders, order-stats" in error["message"]
            assert response.json()["data"] == {"flushCache": None}


async def test_operations_need_cache_admin(app_settings: Settings) -> None:
    async with running(app_settings) as (container, client):
        viewer = {"Authorization": f"Bearer {token()}"}  # a new user: role viewer
        keyed = {"X-API-Key": await key(container, "orders:read", "orders:write", "jobs:write")}
        for headers in (viewer, keyed):
            for query, variables in (
                (STATS, {}),
                (FLUSH, {"p": "*"}),
                (WARM, {}),
                (REPLAY, WIDE),
            ):
                response = await gql(client, query, headers, **variables)
                assert codes(response) == ["FORBIDDEN"]
                assert errors_of(response)[0]["extensions"]["permission"] == "cache:admin"
        anonymous = await gql(client, FLUSH, {}, p="*")
        assert anonymous.status_code == 401


async def test_bad_replay_ranges_and_types(app_settings: Settings) -> None:
    async with running(app_settings) as (container, client):
        admin = {"X-API-Key": await key(container, "admin")}
        now = datetime.now(UTC)
        cases = [
            ({"from": now.isoformat(), "to": now.isoformat()}, "to", "earlier"),
            ({"from": now.isoformat(), "to": (now - timedelta(1)).isoformat()}, "to", "earlier"),
            (
                {**WIDE, "types": []},
                "types",
                "must not be empty",
            ),
            (
                {**WIDE, "types": ["order.created", "api_key.created"]},
                "types",
                "not replayable: api_key.created; replayable types: order.created,"
                " orders.processed",
            ),
        ]
        for variables, field, text in cases:
            response = await gql(client, REPLAY, admin, **variables)
            [error] = errors_of(response)
            assert error["extensions"] == {"code": "INVALID_INPUT", "field": field}, variables
            assert text in error["message"]
        garbage = await gql(client, REPLAY, admin, **{"from": "yesterday", "to": "now"})
        assert codes(garbage) == ["INVALID_INPUT", "INVALID_INPUT"]  # one per variable


async def count(container: Any, table: Any, *where: Any) -> int:
    async with container.engine.connect() as conn:
        query = select(func.count()).select_from(table).where(*where)
        return int((await conn.execute(query)).scalar_one())


async def test_replay_re_runs_the_sync_job_without_a_second_sync(sqlite_url: str) -> None:
    settings = replace(Settings(database_url=sqlite_url), api_key_hash_cost="low")
    async with running(settings) as (container, client):
        admin = {"X-API-Key": await key(container, "admin")}
        started = datetime.now(UTC) - timedelta(seconds=1)
        il = await create_order(client, admin, order_body())
        await create_order(client, admin, order_body("se-india-uppercase-branch-extra-keys.json"))

        async def processed(count_ok: int) -> bool:
            samples = await scrape(client)
            jobs = "visapi_job_duration_seconds_count"
            return samples.get_value(jobs, actor="sync_contact", outcome="ok") == count_ok

        await eventually(lambda: processed(1))
        # The worker's sandbox CRM records each call in the database it shares with the API.
        crm_calls = sandbox_messages.c.operation.like("contact.%")
        assert await count(container, sandbox_messages, crm_calls) == 1
        window = {"from": started.isoformat(), "to": (datetime.now(UTC) + timedelta(1)).isoformat()}
        for replays in (1, 2):  # and again: replays repeat as safely as deliveries
            response = await gql(client, REPLAY, admin, **window)
            answer = {r["type"]: r for r in response.json()["data"]["replayEvents"]}
            assert answer["order.created"] == {
                "type": "order.created",
                "events": 2,
                "jobs": 1,
                "skipped": 0,
            }
            # The il order's confirmation: its send job again, which finds it sent.
            assert answer["notification.queued"]["events"] == 1
            assert answer["notification.queued"]["jobs"] == 1
            assert answer["orders.processed"]["events"] == 0
            await eventually(lambda n=replays: processed(1 + n))  # type: ignore[misc]
        # Three deliveries of sync_contact; the vendor was called once, the row attempted once.
        assert await count(container, sandbox_messages, crm_calls) == 1
        assert await count(container, outbox, outbox.c.actor == "sync_contact") == 3
        async with container.engine.connect() as conn:
            row = (await conn.execute(select(contact_syncs))).one()
        assert (str(row.order_uuid), row.synced, row.attempts) == (il, True, 1)

        only = await gql(client, REPLAY, admin, types=["order.created"], **{
            "from": started.isoformat(), "to": (started + timedelta(microseconds=1)).isoformat()
        })  # fmt: skip
        assert only.json()["data"]["replayEvents"] == [
            {"type": "order.created", "events": 0, "jobs": 0, "skipped": 0}
        ]
