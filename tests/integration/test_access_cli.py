"""`visapi keys create`: the key alone on stdout, audited as the CLI; refusals in one line."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from infrastructure.db.engine import create_engine
from infrastructure.db.tables import api_keys, events
from visapi.cli import main

LOW = {"VISAPI_API_KEY_HASH_COST": "low"}


async def stored(url: str) -> tuple[list[dict[str, object]], list[dict[str, object]]]:
    engine = create_engine(url)
    try:
        async with engine.connect() as conn:
            keys = [dict(r) for r in (await conn.execute(select(api_keys))).mappings()]
            audit = [dict(r) for r in (await conn.execute(select(events))).mappings()]
        return keys, audit
    finally:
        await engine.dispose()


def test_keys_create_prints_the_key_alone(db_url: str) -> None:
    env = {"VISAPI_DATABASE_URL": db_url, **LOW}
    result = CliRunner().invoke(
        main,
        ["keys", "create", "--name", "storefront", "--scopes", "orders:write,webhook:vizi"],
        env=env,
    )
    assert result.exit_code == 0, result.output
    full = result.stdout.strip()
    prefix = full.split(".")[0]
    assert result.stdout == f"{full}\n"
    assert prefix in result.stderr
    assert full not in result.stderr
    keys, audit = asyncio.run(stored(db_url))
    assert [(k["prefix"], k["scopes"], k["created_by"]) for k in keys] == [
        (prefix, ["orders:write", "webhook:vizi"], "cli")
    ]
    assert [(a["type"], a["actor"]) for a in audit] == [("api_key.created", "cli")]


@pytest.mark.parametrize(
    ("args", "env", "message"),
    [
        (["--scopes", "orders:delete"], {}, "unknown scope 'orders:delete'"),
        (["--scopes", ","], {}, "at least one scope"),
        (["--scopes", "admin", "--expires-in-days", "0"], {}, "0 is not in the range"),
        (["--scopes", "admin"], {"VISAPI_JWT_PUBLIC_KEY": "nope"}, "VISAPI_JWT_PUBLIC_KEY"),
    ],
)
def test_keys_create_refusals(
    sqlite_url: str, args: list[str], env: dict[str, str], message: str
) -> None:
    jwt = {"VISAPI_JWT_ISSUER": "i", "VISAPI_JWT_AUDIENCE": "a"}
    env = {"VISAPI_DATABASE_URL": sqlite_url, **jwt, **LOW, **env}
    result = CliRunner().invoke(main, ["keys", "create", "--name", "x", *args], env=env)
    assert result.exit_code != 0
    assert message in result.stderr
    assert "Traceback" not in result.output


def test_keys_create_on_an_unmigrated_database(tmp_path: Path) -> None:
    env = {"VISAPI_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'empty.db'}", **LOW}
    result = CliRunner().invoke(
        main, ["keys", "create", "--name", "x", "--scopes", "admin"], env=env
    )
    assert result.exit_code == 1
    assert "run `visapi migrate`" in result.stderr
