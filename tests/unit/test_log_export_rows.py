"""The log export's pure parts: the query string read into a filter (or refused naming the
parameter), and rows written as CSV (formula cells defused) and NDJSON."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime
from uuid import UUID

import orjson
import pytest
from starlette.datastructures import QueryParams

from app.errors import InvalidInput
from app.logs.ports import LogLevel, LogView
from rest.log_export import COLUMNS, _csv_lines, _ndjson_lines, _record, parse

AT = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)


def view(message: str = "order stored", **changes: object) -> LogView:
    fields: dict[str, object] = {
        "id": UUID(int=1),
        "level": "info",
        "message": message,
        "metadata": {"order": "A1"},
        "correlation_id": "cid-1",
        "workflow_id": None,
        "job_id": None,
        "pii_redacted": True,
        "created_at": AT,
    }
    return LogView(**{**fields, **changes})  # type: ignore[arg-type]


def csv_rows(data: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(data.decode())))


def test_a_csv_header_names_the_columns() -> None:
    assert csv_rows(_csv_lines([], header=True)) == [list(COLUMNS)]


def test_a_csv_row_writes_each_value_as_text() -> None:
    (row,) = csv_rows(_csv_lines([_record(view())], header=False))
    assert row == [
        str(UUID(int=1)),
        AT.isoformat(),
        "info",
        "order stored",
        "cid-1",
        "",
        "",
        "true",
        '{"order":"A1"}',
    ]


@pytest.mark.parametrize("message", ["=1+1", "+1", "-2", "@SUM(A1)", "\tx"])
def test_a_cell_a_spreadsheet_would_run_is_prefixed(message: str) -> None:
    (row,) = csv_rows(_csv_lines([_record(view(message))], header=False))
    assert row[COLUMNS.index("message")] == f"'{message}"


def test_csv_rows_end_with_crlf_and_quote_commas_and_newlines() -> None:
    data = _csv_lines([_record(view('a, "b"\nc'))], header=False)
    assert data.endswith(b"\r\n")
    (row,) = csv_rows(data)
    assert row[COLUMNS.index("message")] == 'a, "b"\nc'


def test_ndjson_writes_one_object_per_line() -> None:
    wf = UUID(int=9)
    data = _ndjson_lines([_record(view()), _record(view("second", workflow_id=wf))])
    first, second = (orjson.loads(line) for line in data.splitlines())
    assert first["metadata"] == {"order": "A1"}
    assert first["workflowId"] is None
    assert (second["message"], second["workflowId"]) == ("second", str(wf))
    assert data.endswith(b"\n")


def test_the_query_gives_format_and_filter() -> None:
    fmt, f = parse(QueryParams("format=csv&level=WARN&from=2026-12-07T09:00:00&text=sync"))
    assert fmt == "csv"
    assert (f.level, f.from_, f.text) == (LogLevel.WARN, AT, "sync")


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("format=xml", "format"),
        ("", "format"),
        ("format=csv&level=loud", "level"),
        ("format=csv&workflowId=nope", "workflowId"),
        ("format=csv&from=yesterday", "from"),
        ("format=csv&sort=asc", "sort"),
        ("format=csv&format=ndjson", "format"),
    ],
)
def test_a_bad_query_is_refused_naming_the_parameter(query: str, field: str) -> None:
    with pytest.raises(InvalidInput) as raised:
        parse(QueryParams(query))
    assert raised.value.field == field
