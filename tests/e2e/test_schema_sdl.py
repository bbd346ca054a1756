"""The checked-in schema.graphql is exactly what `visapi export-schema` prints."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from graph.schema import schema

ROOT = Path(__file__).resolve().parents[2]


def test_schema_graphql_matches_the_code() -> None:
    checked_in = (ROOT / "schema.graphql").read_text()
    assert checked_in == schema.as_str() + "\n", (
        "schema.graphql drifted from the code: run `make schema` and commit it"
    )


def test_export_schema_command_prints_the_sdl() -> None:
    out = subprocess.run(
        [sys.executable, "-m", "visapi.cli", "export-schema"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    ).stdout
    assert out == (ROOT / "schema.graphql").read_text()
    assert "createOrder(payload: JSON!): CreateOrderResult!" in out
