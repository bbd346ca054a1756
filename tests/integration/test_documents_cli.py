"""`visapi documents push` and `list` on both dialects: both manifest formats, all or nothing,
idempotent re-pushes, and the repository's conflict handling behind them."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

from click.testing import CliRunner, Result
from sqlalchemy import select

from app.documents.handlers import sha256_hex
from infrastructure.db.engine import create_engine
from infrastructure.db.tables import persisted_documents
from visapi.cli import main

ME = "query Me { me { name } }"
ORDER = "query Order($id: ID!) { order(id: $id) { id orderId } }"
RELAY_ME = "5d41402abc4b2a76b9719d911017c592"


def apollo(*operations: tuple[str, str]) -> dict[str, Any]:
    return {
        "format": "apollo-persisted-query-manifest",
        "version": 1,
        "operations": [
            {"id": sha256_hex(body), "name": name, "type": "query", "body": body}
            for name, body in operations
        ],
    }


def run(db_url: str, tmp_path: Path, *args: str, manifest: Any = None) -> Result:
    arguments = list(args)
    if manifest is not None:
        path = tmp_path / "manifest.json"
        path.write_text(json.dumps(manifest))
        arguments.append(str(path))
    return CliRunner().invoke(main, ["documents", *arguments], env={"VISAPI_DATABASE_URL": db_url})


async def _stored(url: str) -> dict[str, dict[str, Any]]:
    engine = create_engine(url)
    try:
        async with engine.connect() as conn:
            found = await conn.execute(select(persisted_documents))
            return {row.id: dict(row._mapping) for row in found}
    finally:
        await engine.dispose()


def stored(url: str) -> dict[str, dict[str, Any]]:
    return asyncio.run(_stored(url))


def test_push_both_formats_then_again(db_url: str, tmp_path: Path) -> None:
    pushed = run(db_url, tmp_path, "push", manifest=apollo(("Me", ME), ("Order", ORDER)))
    assert pushed.exit_code == 0, pushed.output
    assert "(apollo, 2 documents): 2 added, 0 already there" in pushed.stderr
    relay = run(db_url, tmp_path, "push", manifest={RELAY_ME: ME})
    assert relay.exit_code == 0, relay.output
    assert "(relay, 1 documents): 1 added" in relay.stderr
    rows = stored(db_url)
    assert {(id, r["source"], r["operation_name"], r["sha256"]) for id, r in rows.items()} == {
        (sha256_hex(ME), "manifest", "Me", sha256_hex(ME)),
        (sha256_hex(ORDER), "manifest", "Order", sha256_hex(ORDER)),
        (RELAY_ME, "manifest", "Me", sha256_hex(ME)),  # named by the schema check
    }
    assert all(r["owner"] is None and r["body"] for r in rows.values())

    again = run(db_url, tmp_path, "push", manifest=apollo(("Me", ME), ("Order", ORDER)))
    assert again.exit_code == 0
    assert "0 added, 2 already there" in again.stderr
    assert stored(db_url) == rows

    listed = run(db_url, tmp_path, "list")
    assert listed.exit_code == 0
    lines = sorted(listed.stdout.splitlines())
    assert f"{RELAY_ME}\tmanifest\tMe\t-" in lines
    assert len(lines) == 3


def test_one_bad_entry_stores_nothing(db_url: str, tmp_path: Path) -> None:
    bad = "query Broken { order { nope } }"
    manifest = apollo(("Me", ME), ("Broken", bad), ("Order", ORDER))
    result = run(db_url, tmp_path, "push", manifest=manifest)
    assert result.exit_code == 1
    assert f"document {sha256_hex(bad)} (Broken): is not valid:" in result.stderr
    assert "nothing was stored" in result.stderr
    assert "Traceback" not in result.output
    assert stored(db_url) == {}


def test_refusals_name_the_file_and_entry(db_url: str, tmp_path: Path) -> None:
    path = tmp_path / "manifest.json"
    for manifest, message in (
        ("{not json", "is not JSON"),
        ('{"format": "other"}', "unknown manifest format 'other'"),
        ('{"abc": ""}', "'abc' (id abc): the body must be a non-empty GraphQL document"),
    ):
        path.write_text(manifest)
        result = CliRunner().invoke(
            main, ["documents", "push", str(path)], env={"VISAPI_DATABASE_URL": db_url}
        )
        assert result.exit_code == 1, manifest
        assert message in result.stderr
        assert str(path) in result.stderr
    run(db_url, tmp_path, "push", manifest={"same-id": ME})
    taken = run(db_url, tmp_path, "push", manifest={"same-id": ORDER})
    assert taken.exit_code == 1
    assert "document same-id: another document is stored under this id" in taken.stderr
    assert {r["body"] for r in stored(db_url).values()} == {ME}
