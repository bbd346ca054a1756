"""Bulk operations over HTTP with the lifespan running, on the embedded default (its worker runs
the batches) and on PostgreSQL + Redis with a real worker: the set of orders is fixed at the
start, batches of 50, progress readable and pushed, cancel, permissions, bad filters named."""

from __future__ import annotations

import uuid
from typing import Any

import httpx

from app.orders.commands import CreateOrder
from tests.auth import key, running, with_auth
from tests.e2e.gql_support import gql_data
from tests.live import order_body
from tests.waiting import eventually
from visapi.bootstrap import Container
from visapi.settings import Settings

START = """mutation($f: OrderFilter!) { markOrdersProcessedWhere(filter: $f) {
  id kind status total done failed filter } }"""
READ = """query($id: ID!) { bulkOperation(id: $id) {
  status total done failed failures { order message } finishedAt } }"""
UNPROCESSED = (
    "query($e: String) { orders(filter: {unprocessed: true, clientEmail: $e}) { totalCount } }"
)
RESEND = """mutation($f: OrderFilter!) { resendConfirmationsWhere(filter: $f) {
  id total } }"""
CANCEL = "mutation($id: ID!) { cancelBulkOperation(id: $id) { status finishedAt } }"


async def orders(container: Container, count: int, email: str) -> None:
    for _ in range(count):
        await container.bus.handle(CreateOrder(payload=order_body(email)))


async def finished(http: httpx.AsyncClient, admin: str, id: str) -> dict[str, Any]:
    async def done() -> dict[str, Any] | None:
        found: dict[str, Any] = (await gql_data(http, READ, admin, id=id))["bulkOperation"]
        return found if found["status"] != "RUNNING" else None

    result: dict[str, Any] = await eventually(done, timeout_s=60, why="never finished")
    return result


def embedded(sqlite_url: str) -> Settings:
    return with_auth(Settings(database_url=sqlite_url))


async def test_mark_processed_by_filter_in_batches(sqlite_url: str) -> None:
    # The embedded worker runs the batches (production's are run by tests/e2e/test_bulk_workers.py).
    async with running(embedded(sqlite_url)) as (container, http):
        admin = await key(container, "admin")
        email = f"bulk-{uuid.uuid4().hex[:6]}@example.com"
        await orders(container, 120, email)
        await orders(container, 3, "someone-else@example.com")
        started = (await gql_data(http, START, admin, f={"clientEmail": email}))[
            "markOrdersProcessedWhere"
        ]
        assert started["kind"] == "MARK_PROCESSED"
        assert started["total"] == 120  # fixed at the start
        assert started["filter"] == {"clientEmail": email}
        await orders(container, 5, email)  # arrive later: not in it
        result = await finished(http, admin, started["id"])
        left = (await gql_data(http, UNPROCESSED, admin, e=email))["orders"]["totalCount"]
        others = await gql_data(http, UNPROCESSED, admin, e="someone-else@example.com")
    assert result["status"] == "FINISHED"
    assert (result["total"], result["done"], result["failed"]) == (120, 120, 0)
    assert result["finishedAt"] is not None
    assert left == 5  # the late ones
    assert others["orders"]["totalCount"] == 3


async def test_refusals_are_counted_with_their_reasons(sqlite_url: str) -> None:
    async with running(embedded(sqlite_url)) as (container, http):
        admin = await key(container, "admin")
        email = f"bulk-{uuid.uuid4().hex[:6]}@example.com"
        await orders(container, 2, email)
        started = await gql_data(http, RESEND, admin, f={"clientEmail": email})
        result = await finished(http, admin, started["resendConfirmationsWhere"]["id"])
    # Each order is refused or queued, by its own state then (synced or not yet).
    assert result["done"] + result["failed"] == 2
    for failure in result["failures"]:
        assert failure["message"]


async def test_an_empty_match_finishes_at_once_and_cancel_answers_it(
    app_settings: Settings,
) -> None:
    async with running(app_settings) as (container, http):
        admin = await key(container, "admin")
        nothing = {"clientEmail": "nobody-at-all@example.com"}
        started = (await gql_data(http, START, admin, f=nothing))["markOrdersProcessedWhere"]
        canceled = (await gql_data(http, CANCEL, admin, id=started["id"]))["cancelBulkOperation"]
    assert (started["status"], started["total"]) == ("FINISHED", 0)
    assert canceled["status"] == "FINISHED"  # answered as it is


async def test_permissions_and_bad_input(app_settings: Settings) -> None:
    async with running(app_settings) as (container, http):
        reader = await key(container, "orders:read")
        admin = await key(container, "admin")
        refused = await http.post(
            "/graphql",
            json={"query": START, "variables": {"f": {}}},
            headers={"X-API-Key": reader},
        )
        bad = await http.post(
            "/graphql",
            json={"query": START, "variables": {"f": {"amountGte": "lots"}}},
            headers={"X-API-Key": admin},
        )
        missing = await http.post(
            "/graphql",
            json={"query": CANCEL, "variables": {"id": str(uuid.uuid4())}},
            headers={"X-API-Key": admin},
        )
    assert refused.json()["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    assert refused.json()["data"] == {"markOrdersProcessedWhere": None}
    assert bad.json()["errors"][0]["extensions"]["code"] == "INVALID_INPUT"
    assert "amountGte" in bad.json()["errors"][0]["message"]
    assert missing.json()["errors"][0]["extensions"]["code"] == "NOT_FOUND"
