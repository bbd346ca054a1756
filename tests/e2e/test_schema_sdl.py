"""The checked-in schema.graphql is exactly what `visapi export-schema` prints, and the code breaks
no client written against it (graph.compatibility; the checker's own tests are in
tests/unit/test_schema_compatibility.py)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from graph.compatibility import breaking_changes, dangerous_changes, listed, refusal
from graph.schema import schema

ROOT = Path(__file__).resolve().parents[2]


def test_the_code_breaks_no_client_of_schema_graphql() -> None:
    broken = breaking_changes((ROOT / "schema.graphql").read_text(), schema.as_str() + "\n")
    assert not broken, refusal(broken)


def test_schema_graphql_matches_the_code() -> None:
    checked_in = (ROOT / "schema.graphql").read_text()
    exported = schema.as_str() + "\n"
    if checked_in != exported:  # reported, not a failure of their own: make schema writes them
        dangerous = dangerous_changes(checked_in, exported)
        notes = f"; dangerous changes among them:\n{listed(dangerous)}" if dangerous else ""
        raise AssertionError(
            f"schema.graphql drifted from the code: run `make schema` and commit it{notes}"
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
    # Partial results: root fields are nullable, but for `me`, refused only with the operation.
    assert "  ): CreateOrderResult\n" in out
    assert "\n  me: Me!\n" in out
