"""Business logs over HTTP in both modes: intake writes one with the request's correlation id,
`logs` filters and pages newest first, `logStats` counts, bad input names its field, and the
process's own JSON lines carry the correlation id."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.auth import codes, errors_of, key, running, with_auth
from tests.e2e.gql_support import gql
from tests.e2e.logs_support import NOW, SAMPLE, WORKFLOW, entry, seed
from visapi.logging import configure_logging
from visapi.settings import Settings

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "vizi-orders"
CREATE = "mutation($p: JSON!) { createOrder(payload: $p) { __typename } }"
LOGS = """query($filter: LogFilter, $first: Int, $after: String) {
  logs(filter: $filter, first: $first, after: $after) {
    totalCount pageInfo { hasNextPage endCursor }
    edges { cursor node { id level message metadata correlationId workflowId jobId piiRedacted
      createdAt } } } }"""
STATS = "{ logStats { total byLevel { level count } withPii last24h } }"


@pytest.fixture
def sqlite_settings(sqlite_url: str) -> Settings:
    return with_auth(Settings(database_url=sqlite_url))


@pytest.fixture
def json_lines() -> Iterator[io.StringIO]:
    """What the production log handler writes during one test."""
    root = logging.getLogger()
    level, handlers = root.level, list(root.handlers)
    configure_logging("INFO")
    output = io.StringIO()
    for handler in root.handlers:
        if getattr(handler, "visapi", False):
            handler.setStream(output)  # type: ignore[attr-defined]
    yield output
    root.handlers[:] = handlers
    root.setLevel(level)


async def test_intake_logs_with_the_request_correlation_id(
    app_settings: Settings, json_lines: io.StringIO
) -> None:
    payload = json.loads((FIXTURES / "il-uk-eta.json").read_text())
    async with running(app_settings) as (container, client):
        admin = await key(container, "admin")
        created = await client.post(
            "/graphql",
            json={"query": CREATE, "variables": {"p": payload}},
            headers={"X-API-Key": admin, "X-Correlation-Id": "cid-intake-7"},
        )
        assert created.json()["data"]["createOrder"]["__typename"] == "OrderAccepted"
        found = await gql(client, LOGS, admin, filter={"correlationId": "cid-intake-7"})
    [edge] = found.json()["data"]["logs"]["edges"]
    node = edge["node"]
    assert (node["level"], node["message"], node["correlationId"]) == (
        "INFO",
        "order IL251101GB07 received",
        "cid-intake-7",
    )
    assert node["metadata"]["order_id"] == "IL251101GB07"
    assert node["metadata"]["source"] == "graphql"
    assert node["piiRedacted"] is False
    # The process's own lines are JSON, and the request's carry its correlation id.
    lines = [json.loads(line) for line in json_lines.getvalue().splitlines()]
    accepted = [x for x in lines if x["message"] == "order IL251101GB07 accepted"]
    assert len(accepted) == 1
    assert accepted[0]["correlation_id"] == "cid-intake-7"
    assert accepted[0]["logger"] == "visapi.orders"
    assert accepted[0]["level"] == "INFO"
    assert accepted[0]["ts"].endswith("Z")


def messages(response: Any) -> list[str]:
    return [e["node"]["message"] for e in response.json()["data"]["logs"]["edges"]]


async def test_logs_filters_pages_and_stats(app_settings: Settings) -> None:
    async with running(app_settings) as (container, client):
        viewer = await key(container, "logs:read")
        await seed(container, SAMPLE)

        async def query(**variables: Any) -> Any:
            response = await gql(client, LOGS, viewer, **variables)
            assert "errors" not in response.json(), response.json()
            return response

        everything = await query()
        assert messages(everything)[0] == "Contact sync FAILED for IL250819GB16"
        assert everything.json()["data"]["logs"]["totalCount"] == 5
        cases: list[tuple[dict[str, Any], list[str]]] = [
            ({"level": "ERROR"}, ["Contact sync FAILED for IL250819GB16", "an old error"]),
            ({"correlationId": "c-9"}, ["Contact sync FAILED for IL250819GB16", "contact synced"]),
            ({"jobId": "j-1", "level": "INFO"}, ["contact synced"]),
            ({"workflowId": str(WORKFLOW)}, ["workflow step retried"]),
            ({"text": "SYNC"}, ["Contact sync FAILED for IL250819GB16", "contact synced"]),
            ({"text": "[email]"}, ["order from [EMAIL]"]),
            ({"from": NOW.replace(tzinfo=None).isoformat(), "level": "ERROR"}, []),
            ({"to": "2000-01-01T00:00:00Z"}, []),
        ]
        for where, expected in cases:
            assert messages(await query(filter=where)) == expected, where
        pii = await query(filter={"text": "order from"})
        node = pii.json()["data"]["logs"]["edges"][0]["node"]
        assert (node["piiRedacted"], node["metadata"]) == (True, {"phone": "[PHONE]"})

        seen: list[str] = []
        after = None
        while True:
            page = await query(first=2, after=after)
            seen += messages(page)
            info = page.json()["data"]["logs"]["pageInfo"]
            if not info["hasNextPage"]:
                break
            after = info["endCursor"]
        assert seen == messages(everything)

        stats = (await gql(client, STATS, viewer)).json()["data"]["logStats"]
        # Stats scan every row: served from the cache for VISAPI_CACHE_LOG_STATS_TTL_S.
        await seed(container, [entry(0, "one more")], fresh=False)
        again = (await gql(client, STATS, viewer)).json()["data"]["logStats"]
        assert again == stats
        assert (await query()).json()["data"]["logs"]["totalCount"] == 6
    assert stats["total"] == 5
    assert {b["level"]: b["count"] for b in stats["byLevel"]} == {"INFO": 2, "WARN": 1, "ERROR": 2}
    assert stats["withPii"] == 1
    assert stats["last24h"] == 4


@pytest.mark.parametrize(
    ("variables", "field"),
    [
        ({"filter": {"text": "  "}}, "filter.text"),
        ({"filter": {"text": "x" * 201}}, "filter.text"),
        ({"filter": {"workflowId": "nope"}}, "filter.workflowId"),
        ({"filter": {"jobId": "a b"}}, "filter.jobId"),
        ({"filter": {"correlationId": "x" * 65}}, "filter.correlationId"),
        ({"filter": {"from": "2026-01-02T00:00:00Z", "to": "2026-01-01T00:00:00Z"}}, "filter.to"),
        ({"first": 101}, "first"),
        ({"after": "not-a-cursor"}, "after"),
    ],
)
async def test_bad_input_names_its_field(
    sqlite_settings: Settings, variables: dict[str, Any], field: str
) -> None:
    async with running(sqlite_settings) as (container, client):
        viewer = await key(container, "logs:read")
        response = await gql(client, LOGS, viewer, **variables)
    assert codes(response) == ["INVALID_INPUT"]
    assert errors_of(response)[0]["extensions"]["field"] == field


async def test_logs_need_logs_read(sqlite_settings: Settings) -> None:
    async with running(sqlite_settings) as (container, client):
        orders_only = await key(container, "orders:read")
        for document in (LOGS, STATS):
            response = await gql(client, document, orders_only)
            assert codes(response) == ["FORBIDDEN"]
            assert errors_of(response)[0]["extensions"]["permission"] == "logs:read"
