"""Jobs over GraphQL in both modes: failedJobs, queueStats, replays, and their permissions."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import insert, select

from infrastructure.db.tables import failed_jobs, outbox
from tests.auth import codes, errors_of, key, running
from tests.e2e.gql_support import gql
from visapi.settings import Settings

FAILED = """query($filter: FailedJobFilter, $first: Int, $after: String) {
  failedJobs(filter: $filter, first: $first, after: $after) {
    totalCount edges { cursor node { id queue actor arguments error attempts failedAt replayedAt } }
    pageInfo { hasNextPage endCursor } } }"""
STATS = """{ queueStats { queue ready delayed inFlight failed
  lastMinute { processed retried failed processedPerMinute failedPerMinute }
  lastFiveMinutes { processed failed } } }"""
REPLAY = """mutation($id: ID!) { replayFailedJob(id: $id) {
  __typename
  ... on FailedJobReplayed { failedJob { id replayedAt } }
  ... on FailedJobAlreadyReplayed { message field }
  ... on UnknownJobActor { message field actor } } }"""
REPLAY_ALL = """mutation($filter: FailedJobFilter, $limit: Int) {
  replayFailedJobs(filter: $filter, limit: $limit) {
    count failedJobs { id } unknownActors hasMore } }"""


async def seed(container: Any) -> list[uuid.UUID]:
    """Four dead letters, oldest first: default, bulk, a removed actor, default."""
    base = datetime.now(UTC) - timedelta(hours=2)
    specs = [
        ("default", "sync_contact"),
        ("bulk", "sync_contact"),
        ("default", "send_fax"),
        ("default", "sync_contact"),
    ]
    rows = [
        {
            "id": uuid.uuid4(),
            "message_id": str(uuid.uuid4()),
            "queue": queue,
            "actor": actor,
            "arguments": {"order_id": str(uuid.uuid4())},
            "error": "VendorError: vendor_error: HTTP 503",
            "attempts": 6,
            "failed_at": base + timedelta(minutes=i),
        }
        for i, (queue, actor) in enumerate(specs)
    ]
    async with container.engine.begin() as conn:
        await conn.execute(insert(failed_jobs), rows)
    return [r["id"] for r in rows]


async def test_failed_jobs_stats_and_replays(app_settings: Settings) -> None:
    async with running(app_settings) as (container, client):
        ids = await seed(container)
        reader = await key(container, "jobs:read")
        writer = await key(container, "jobs:read", "jobs:write")

        page = (await gql(client, FAILED, reader, first=2)).json()["data"]["failedJobs"]
        assert page["totalCount"] == 4
        assert [e["node"]["id"] for e in page["edges"]] == [str(ids[3]), str(ids[2])]
        assert page["edges"][0]["node"]["attempts"] == 6
        after = page["pageInfo"]["endCursor"]
        rest = (await gql(client, FAILED, reader, first=5, after=after)).json()["data"]
        assert [e["node"]["id"] for e in rest["failedJobs"]["edges"]] == [str(ids[1]), str(ids[0])]
        assert rest["failedJobs"]["pageInfo"]["hasNextPage"] is False
        bulk = await gql(client, FAILED, reader, filter={"queue": "bulk"})
        assert [e["node"]["id"] for e in bulk.json()["data"]["failedJobs"]["edges"]] == [
            str(ids[1])
        ]

        stats = (await gql(client, STATS, reader)).json()["data"]["queueStats"]
        assert {s["queue"]: s["failed"] for s in stats} == {"critical": 0, "default": 3, "bulk": 1}
        assert stats[0]["lastMinute"]["processedPerMinute"] == 0.0

        # Readers may not replay.
        refused = await gql(client, REPLAY, reader, id=str(ids[0]))
        assert codes(refused) == ["FORBIDDEN"]
        assert errors_of(refused)[0]["extensions"]["permission"] == "jobs:write"
        assert codes(await gql(client, REPLAY_ALL, reader)) == ["FORBIDDEN"]
        assert codes(await gql(client, FAILED, await key(container, "orders:read"))) == [
            "FORBIDDEN"
        ]

        done = (await gql(client, REPLAY, writer, id=str(ids[0]))).json()["data"]
        assert done["replayFailedJob"]["__typename"] == "FailedJobReplayed"
        assert done["replayFailedJob"]["failedJob"]["replayedAt"] is not None
        again = (await gql(client, REPLAY, writer, id=str(ids[0]))).json()["data"]
        assert again["replayFailedJob"]["__typename"] == "FailedJobAlreadyReplayed"
        assert "replayed already" in again["replayFailedJob"]["message"]
        gone = (await gql(client, REPLAY, writer, id=str(ids[2]))).json()["data"]
        assert gone["replayFailedJob"] == {
            "__typename": "UnknownJobActor",
            "message": "actor 'send_fax' is no longer registered; no worker would run the job",
            "field": "id",
            "actor": "send_fax",
        }
        missing = await gql(client, REPLAY, writer, id=str(uuid.uuid4()))
        assert codes(missing) == ["NOT_FOUND"]
        assert codes(await gql(client, REPLAY, writer, id="nope")) == ["INVALID_INPUT"]

        bulk_replay = await gql(client, REPLAY_ALL, writer, filter={"queue": "default"})
        assert bulk_replay.json()["data"]["replayFailedJobs"] == {
            "count": 1,
            "failedJobs": [{"id": str(ids[3])}],
            "unknownActors": ["send_fax"],
            "hasMore": False,
        }
        async with container.engine.connect() as conn:
            sent = (await conn.execute(select(outbox.c.queue, outbox.c.actor))).all()
        # (The embedded scheduler's maintenance jobs go through the outbox too.)
        replays = [row for row in sent if row.actor != "run_maintenance"]
        assert sorted(replays) == [("default", "sync_contact")] * 2
        replayed = await gql(client, FAILED, reader, filter={"replayed": True})
        assert replayed.json()["data"]["failedJobs"]["totalCount"] == 2


async def test_bad_filters_and_limits_name_the_field(app_settings: Settings) -> None:
    async with running(app_settings) as (container, client):
        admin = await key(container, "admin")
        cases: list[tuple[str, dict[str, Any], str]] = [
            (FAILED, {"filter": {"queue": "urgent"}}, "filter.queue"),
            (FAILED, {"filter": {"actor": "  "}}, "filter.actor"),
            (FAILED, {"first": 101}, "first"),
            (FAILED, {"after": "garbage"}, "after"),
            (REPLAY_ALL, {"filter": {"replayed": True}}, "filter.replayed"),
            (REPLAY_ALL, {"limit": 5000}, "limit"),
        ]
        for query, variables, field in cases:
            response = await gql(client, query, admin, **variables)
            [error] = errors_of(response)
            assert error["extensions"]["code"] == "INVALID_INPUT", (variables, error)
            assert error["extensions"]["field"] == field, (variables, error)
        urgent = errors_of(await gql(client, FAILED, admin, filter={"queue": "urgent"}))
        assert "queues are critical, default, bulk" in urgent[0]["message"]
