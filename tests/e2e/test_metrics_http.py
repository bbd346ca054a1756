"""/metrics over HTTP, parsed with prometheus-client's parser: requests by route template,
GraphQL operations by name, cache hits and misses by prefix, jobs by actor, queue depth."""

from __future__ import annotations

import uuid
from dataclasses import replace

import pytest

from infrastructure.queue.broker import close_broker
from infrastructure.queue.relay import to_message
from tests.auth import key, running
from tests.scrape import create_order, order_body, parse, scrape
from tests.vendor import FakeVendor
from tests.waiting import eventually
from visapi.bootstrap import bootstrap
from visapi.settings import Settings

HTTP = "visapi_http_request_duration_seconds_count"
GRAPHQL = "visapi_graphql_operation_duration_seconds_count"
JOBS = "visapi_job_duration_seconds_count"
STATS = "query Stats { orderStats(groupBy: BRANCH) { key } }"


async def test_requests_operations_and_cache_lookups_are_counted(app_settings: Settings) -> None:
    async with running(app_settings) as (container, client):
        admin = {"X-API-Key": await key(container, "admin")}
        for _ in range(3):
            assert (await client.get("/api/v1/healthz")).status_code == 200
        assert (await client.get("/no/such/path/123")).status_code == 404
        anonymous = await client.post("/graphql", json={"query": "{ orders { totalCount } }"})
        assert anonymous.status_code == 401  # refused by the gate before the router ran
        bad_key = await client.post(
            "/graphql", json={"query": "{ __typename }"}, headers={"X-API-Key": "vk_x.y"}
        )
        assert bad_key.status_code == 401
        for _ in range(2):
            named = await client.post(
                "/graphql", json={"query": "query Dashboard { __typename }"}, headers=admin
            )
            assert named.json() == {"data": {"__typename": "Query"}}
        # Names chosen by callers without credentials are not counted (they would fill the
        # capped label slots): their operations are "anonymous".
        for _ in range(3):
            probe = await client.post("/graphql", json={"query": "query Probe { __typename }"})
            assert probe.json() == {"data": {"__typename": "Query"}}
        # A miss, then a hit under the order-stats prefix (two documents: the second would
        # be a response-cache hit, which reads no prefix; it counts as an operation too).
        for query in (STATS, STATS.replace("{ key }", "{ key count }"), STATS):
            stats = await client.post("/graphql", json={"query": query}, headers=admin)
            assert "errors" not in stats.json()
        # Two operations in one document: the one named by operationName is the one reported.
        two = "query A { __typename } query B { __typename }"
        await client.post("/graphql", json={"query": two, "operationName": "B"}, headers=admin)
        await client.post("/graphql", json={"query": "{ nope }"})  # a validation error

        samples = await scrape(client)
        assert samples.get_value(HTTP, method="GET", route="/api/v1/healthz", status="2xx") == 3
        assert samples.get_value(HTTP, method="GET", route="unmatched", status="4xx") == 1
        assert samples.get_value(HTTP, method="POST", route="/graphql", status="4xx") == 2
        # Templates only: a raw path never becomes a label.
        assert "/no/such/path/123" not in samples.label_values(HTTP, "route")
        assert samples.get_value(GRAPHQL, operation="Dashboard", type="query", outcome="ok") == 2
        assert samples.get_value(GRAPHQL, operation="Stats", type="query", outcome="ok") == 3
        assert samples.get_value(GRAPHQL, operation="B", type="query", outcome="ok") == 1
        assert samples.get_value(GRAPHQL, operation="A", type="query", outcome="ok") == 0
        assert samples.get_value(GRAPHQL, operation="anonymous", type="query", outcome="error") == 2
        assert samples.get_value(GRAPHQL, operation="anonymous", type="query", outcome="ok") == 3
        assert "Probe" not in samples.label_values(GRAPHQL, "operation")
        assert samples.get_value("visapi_cache_misses_total", prefix="order-stats") == 1
        assert samples.get_value("visapi_cache_hits_total", prefix="order-stats") == 1
        # The key's check was hashed once, then served from the cache.
        assert samples.get_value("visapi_cache_hits_total", prefix="api-key-checks") >= 1

        again = await scrape(client)  # the first scrape is counted under its own template
        assert again.get_value(HTTP, method="GET", route="/metrics", status="2xx") == 1
        assert again.get_value(HTTP, method="GET", route="/api/v1/healthz", status="2xx") == 3


async def test_metrics_need_no_credentials_and_ignore_rate_limits(app_settings: Settings) -> None:
    settings = replace(app_settings, rate_limit_per_ip=1)
    async with running(settings) as (_, client):
        await client.post("/graphql", json={"query": "{ __typename }"})
        limited = await client.post("/graphql", json={"query": "{ __typename }"})
        assert limited.status_code == 429
        for _ in range(3):
            response = await client.get("/metrics", headers={"X-API-Key": "ignored.here"})
            assert response.status_code == 200
            assert "x-ratelimit-limit" not in response.headers


async def test_unbounded_operation_names_are_capped(
    app_settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("infrastructure.metrics.MAX_OPERATION_NAMES", 3)
    async with running(app_settings) as (container, client):
        client.headers["X-API-Key"] = await key(container, "orders:read")
        for n in range(6):
            await client.post("/graphql", json={"query": f"query Op{n} {{ __typename }}"})
        # An operationName the document does not define is not taken as a label.
        await client.post(
            "/graphql", json={"query": "query Real { __typename }", "operationName": "Forged"}
        )
        names = (await scrape(client)).label_values(GRAPHQL, "operation")
    assert names == {"Op0", "Op1", "Op2", "other", "invalid"}


async def test_a_job_processed_and_a_job_failed_by_actor(
    sqlite_url: str, fake_vendor: FakeVendor
) -> None:
    # Embedded mode: the StubBroker worker runs inside the app; no retries, so a failure is final.
    settings = replace(
        Settings(database_url=sqlite_url),
        api_key_hash_cost="low",
        job_max_retries=0,
        cbb_base_url=fake_vendor.base_url,
        cbb_token=fake_vendor.token,
        cbb_retries=0,
    )
    async with running(settings) as (container, client):
        admin = {"X-API-Key": await key(container, "admin")}
        await create_order(client, admin, order_body())

        async def jobs(outcome: str, count: int, actor: str = "sync_contact") -> bool:
            samples = await scrape(client)
            return samples.get_value(JOBS, actor=actor, outcome=outcome) == count

        await eventually(lambda: jobs("ok", 1))
        await eventually(lambda: jobs("ok", 1, "send_notification"))
        fake_vendor.script("contact.get", "status", status=503, times=None)
        second = order_body()
        second["form"]["client"]["phone"]["number"] = "0541112299"  # a new contact: GET first
        await create_order(client, admin, second)
        await eventually(lambda: jobs("failed", 1))
        samples = await scrape(client)
        assert samples.get_value(JOBS, actor="sync_contact", outcome="ok") == 1
        assert samples.get_value(JOBS, actor="sync_contact", outcome="retried") == 0
        assert samples.get_value("visapi_queue_depth", queue="default", state="ready") == 0


async def test_queue_depth_is_read_from_redis_at_scrape(production_settings: Settings) -> None:
    # Production mode runs no worker in the API process: the job waits in Redis.
    async with running(production_settings) as (container, client):
        before = await scrape(client)
        assert before.get_value("visapi_queue_depth", queue="default", state="ready") == 0
        admin = {"X-API-Key": await key(container, "admin")}
        for _ in range(2):
            await create_order(client, admin, order_body())
        await create_order(client, admin, order_body("se-india-uppercase-branch-extra-keys.json"))
        # The answer does not wait for the broker: the relay publishes committed jobs just after.
        await container.relay.flush()
        samples = await scrape(client)
        assert samples.get_value("visapi_queue_depth", queue="default", state="ready") == 2
        assert samples.get_value("visapi_queue_depth", queue="critical", state="ready") == 0


async def test_queue_depth_of_the_stub_broker(sqlite_url: str) -> None:
    container = bootstrap(Settings(database_url=sqlite_url))  # no worker consumes
    try:
        for _ in range(3):
            args = {"order_id": str(uuid.uuid4())}
            container.broker.enqueue(to_message(uuid.uuid4(), "sync_contact", "bulk", args, None))
        samples = parse(container.metrics.render()[0].decode())
        assert samples.get_value("visapi_queue_depth", queue="bulk", state="ready") == 3
        assert samples.get_value("visapi_queue_depth", queue="default", state="ready") == 0
    finally:
        await container.aclose()
        close_broker(container.broker)


async def test_database_pools_and_the_process_are_reported(app_settings: Settings) -> None:
    async with running(app_settings) as (_, client):
        samples = await scrape(client)
    size = samples.get_value("visapi_db_pool_connections", engine="primary", state="size")
    out = samples.get_value("visapi_db_pool_connections", engine="primary", state="checked_out")
    assert size is not None
    assert size > 0  # the setting on PostgreSQL; SQLite keeps a smaller pool of its own
    assert out is not None
    assert out >= 0
    assert samples.get_value("process_resident_memory_bytes") > 0
    assert samples.get_value("process_cpu_seconds_total") > 0
