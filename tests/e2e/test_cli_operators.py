"""The operators' commands on a real database: `visapi --version`, `migrate --check` (exit 1
when behind), `migrate current`, `migrate downgrade REV`, `keys list` and `keys revoke`."""

from __future__ import annotations

import importlib.metadata
import subprocess
from pathlib import Path

from infrastructure.db.migrate import heads
from tests.processes import CLI, ROOT, base_env


def visapi(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*CLI, *args], cwd=ROOT, env=env, capture_output=True, text=True, check=False, timeout=120
    )


def test_version_and_migrations_from_the_command_line(tmp_path: Path) -> None:
    env = base_env(VISAPI_DATABASE_URL=f"sqlite+aiosqlite:///{tmp_path / 'ops.db'}")
    [head] = heads()
    version = visapi(env, "--version")
    assert version.stdout.strip() == f"visapi, version {importlib.metadata.version('visapi')}"
    behind = visapi(env, "migrate", "--check")
    assert behind.returncode == 1
    assert f"the latest is {head}" in behind.stderr
    assert visapi(env, "migrate", "current").stdout.strip() == "none"
    assert visapi(env, "migrate").returncode == 0
    assert visapi(env, "migrate", "--check").returncode == 0
    assert visapi(env, "migrate", "current").stdout.strip() == head
    down = visapi(env, "migrate", "downgrade", "0006")
    assert down.returncode == 0, down.stderr
    assert visapi(env, "migrate", "current").stdout.strip() == "0006"
    assert visapi(env, "migrate", "--check").returncode == 1
    unknown = visapi(env, "migrate", "downgrade", "nope")
    assert unknown.returncode == 1
    assert "cannot downgrade to 'nope'" in unknown.stderr
    assert "Traceback" not in unknown.stderr


def test_keys_are_listed_and_revoked_by_prefix_or_id(tmp_path: Path) -> None:
    env = base_env(VISAPI_DATABASE_URL=f"sqlite+aiosqlite:///{tmp_path / 'keys.db'}")
    assert visapi(env, "migrate").returncode == 0
    first = visapi(env, "keys", "create", "--name", "ops", "--scopes", "admin").stdout.strip()
    second = visapi(env, "keys", "create", "--name", "shop", "--scopes", "orders:write")
    listed = visapi(env, "keys", "list").stdout.splitlines()
    assert [line.split("\t")[2] for line in listed] == ["shop", "ops"]  # newest first
    assert first not in "\n".join(listed)  # never a secret
    prefix = first.split(".")[0]
    assert visapi(env, "keys", "revoke", prefix).returncode == 0
    shop_id = listed[0].split("\t")[0]
    assert visapi(env, "keys", "revoke", shop_id).returncode == 0
    after = visapi(env, "keys", "list").stdout.splitlines()
    assert all("REVOKED" in line for line in after)
    missing = visapi(env, "keys", "revoke", "vk_nope")
    assert missing.returncode == 1
    assert "no API key 'vk_nope'" in missing.stderr
    assert second.returncode == 0
