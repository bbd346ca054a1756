"""`GET /api/v1/logs/export` in both modes: CSV and NDJSON of a filtered set, streamed in
keyset batches; permissions; every bad parameter a 400 naming it."""

from __future__ import annotations

import csv
import io
import json
from typing import Any

import pytest
from sqlalchemy import event

from app.logs.ports import LogLevel
from tests.auth import key, running, with_auth
from tests.e2e.logs_support import SAMPLE, entry, seed
from visapi.settings import Settings

URL = "/api/v1/logs/export"


@pytest.fixture
def sqlite_settings(sqlite_url: str) -> Settings:
    return with_auth(Settings(database_url=sqlite_url))


async def test_ndjson_and_csv_of_a_filter(app_settings: Settings) -> None:
    async with running(app_settings) as (container, client):
        viewer = {"X-API-Key": await key(container, "logs:read")}
        await seed(container, SAMPLE)
        ndjson = await client.get(
            URL, params={"format": "ndjson", "level": "error"}, headers=viewer
        )
        assert ndjson.status_code == 200
        assert ndjson.headers["content-type"] == "application/x-ndjson"
        assert ndjson.headers["content-disposition"].startswith('attachment; filename="logs-')
        assert ndjson.headers["content-disposition"].endswith('.ndjson"')
        rows = [json.loads(line) for line in ndjson.text.splitlines()]
        assert [r["message"] for r in rows] == [
            "Contact sync FAILED for IL250819GB16",
            "an old error",
        ]
        assert rows[0]["correlationId"] == "c-9"
        assert rows[0]["jobId"] == "j-1"
        assert rows[0]["level"] == "error"

        params = {"format": "csv", "text": "ORDER", "from": "2000-01-01"}
        table = await client.get(URL, params=params, headers=viewer)
        assert table.status_code == 200
        assert table.headers["content-type"] == "text/csv; charset=utf-8"
        parsed = list(csv.DictReader(io.StringIO(table.text)))
        assert [r["message"] for r in parsed] == ["order from [EMAIL]"]
        assert parsed[0]["piiRedacted"] == "true"
        assert json.loads(parsed[0]["metadata"]) == {"phone": "[PHONE]"}


async def test_a_large_export_streams_in_batches(sqlite_settings: Settings) -> None:
    async with running(sqlite_settings) as (container, client):
        rows = [entry(i / 100, f"entry {i}") for i in range(2_500)]
        rows.append(entry(-1, '=HYPERLINK("http://x")', LogLevel.WARN))
        viewer = {"X-API-Key": await key(container, "logs:read")}
        await seed(container, rows)
        selects: list[str] = []

        @event.listens_for(container.read_engine.sync_engine, "before_cursor_execute")
        def seen(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
            if statement.startswith("SELECT") and "FROM logs" in statement:
                selects.append(statement)

        async with client.stream("GET", URL, params={"format": "csv"}, headers=viewer) as r:
            assert r.status_code == 200
            chunks = [chunk async for chunk in r.aiter_bytes()]
        text = b"".join(chunks).decode()
        parsed = list(csv.DictReader(io.StringIO(text)))
    assert len(parsed) == 2_501
    # Newest first, none lost across batch boundaries; a formula is defused for spreadsheets.
    assert parsed[0]["message"] == '\'=HYPERLINK("http://x")'
    assert [r["message"] for r in parsed[1:]] == [f"entry {i}" for i in range(2_500)]
    assert len(selects) == 3  # 1000 + 1000 + 501 rows: one short query per batch


async def test_export_needs_logs_read(sqlite_settings: Settings) -> None:
    async with running(sqlite_settings) as (container, client):
        anonymous = await client.get(URL, params={"format": "csv"})
        assert anonymous.status_code == 401
        orders_only = {"X-API-Key": await key(container, "orders:read")}
        refused = await client.get(URL, params={"format": "csv"}, headers=orders_only)
        assert refused.status_code == 403
        assert refused.json()["errors"][0]["extensions"]["permission"] == "logs:read"


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("", "format"),
        ("format=xml", "format"),
        ("format=csv&level=fatal", "level"),
        ("format=csv&from=yesterday", "from"),
        ("format=csv&to=2026-13-01", "to"),
        ("format=csv&from=2026-01-02&to=2026-01-01", "to"),
        ("format=csv&workflowId=123", "workflowId"),
        ("format=csv&jobId=a%20b", "jobId"),
        ("format=csv&correlationId=" + "x" * 65, "correlationId"),
        ("format=csv&text=%20", "text"),
        ("format=csv&limit=5", "limit"),
        ("format=csv&format=ndjson", "format"),
    ],
)
async def test_bad_parameters_are_400_naming_them(
    sqlite_settings: Settings, query: str, field: str
) -> None:
    async with running(sqlite_settings) as (container, client):
        viewer = {"X-API-Key": await key(container, "logs:read")}
        response = await client.get(f"{URL}?{query}", headers=viewer)
    assert response.status_code == 400
    error = response.json()["errors"][0]
    assert error["extensions"] == {"code": "INVALID_INPUT", "field": field}
    assert error["message"].startswith(field)
