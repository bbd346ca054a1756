"""Starting `visapi`: a malformed setting is one clean line naming it (never a traceback), and
`VISAPI_*` names no setting reads are warned about once."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from tests.processes import CLI, ROOT, base_env, serve, wait_until_up
from tests.services import free_port
from visapi.settings import Settings, unknown_names

COMMANDS = ["serve", "worker", "scheduler", "migrate"]
MALFORMED = [
    ("VISAPI_LOG_LEVEL", "verbose"),
    ("VISAPI_ENV", "staging"),
    ("VISAPI_MAX_QUERY_BYTES", "32k"),
    ("VISAPI_GRAPHIQL", "sometimes"),
]


def run(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*CLI, *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )


@pytest.mark.parametrize("command", COMMANDS)
@pytest.mark.parametrize(("name", "value"), MALFORMED)
def test_a_malformed_setting_is_one_line_naming_it(command: str, name: str, value: str) -> None:
    # A Redis URL too, so worker and scheduler reach their settings, not their Redis check.
    env = base_env(VISAPI_REDIS_URL="redis://127.0.0.1:1/0", **{name: value})
    result = run(command, env=env)
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith(f"Error: {name}=")
    assert repr(value) in lines[0]


def test_unknown_names_are_warned_about_once_at_start(sqlite_url: str, tmp_path: Path) -> None:
    env = base_env(
        VISAPI_DATABASE_URL=sqlite_url,
        VISAPI_DATABSE_URL="typo",
        VISAPI_RATE_LIMIT_PER_MINUTE="10",
        VISAPI_GIT_SHA="0123abc",  # read by /api/v1/version
        VISAPI_TEST_POSTGRES_URL="postgresql://elsewhere",  # the test suite's
    )
    migrated = run("migrate", env=env)
    assert migrated.returncode == 0, migrated.stderr
    port, log = free_port(), tmp_path / "serve.log"
    process = serve(port, env, log)
    try:
        wait_until_up(process, f"http://127.0.0.1:{port}", log)
    finally:
        process.terminate()
        process.wait(timeout=15)
    for output in (migrated.stdout, log.read_text()):
        warnings = [
            line
            for line in output.splitlines()
            if line.startswith("{") and json.loads(line)["logger"] == "visapi.settings"
        ]
        assert len(warnings) == 1, output
        line = json.loads(warnings[0])
        assert line["level"] == "WARNING"
        assert "VISAPI_DATABSE_URL, VISAPI_RATE_LIMIT_PER_MINUTE" in line["message"]
        assert "GIT_SHA" not in line["message"]
        assert "TEST_" not in line["message"]


def test_every_setting_is_documented_in_the_readme() -> None:
    readme = (ROOT / "README.md").read_text()
    documented = _documented(readme)
    missing = [
        name
        for name in (f"VISAPI_{f.upper()}" for f in Settings.__dataclass_fields__)
        if name not in documented
    ]
    assert not missing, f"add these to a settings table of README.md: {missing}"
    assert not unknown_names(dict.fromkeys(documented, "")), "README names unknown settings"


def _documented(readme: str) -> set[str]:
    """Names in the first column of README's tables; a row's shorthand `VISAPI_A_B` / `_C`
    names `VISAPI_A_C` or `VISAPI_C`: whichever is a setting."""
    known = {f"VISAPI_{f.upper()}" for f in Settings.__dataclass_fields__}
    full: set[str] = set()
    shorthand: set[str] = set()
    for row in readme.splitlines():
        if not row.startswith("| `VISAPI_"):
            continue
        parts = [p.strip().strip("`") for p in row.split("|")[1].replace("+", "/").split("/")]
        full.update(p for p in parts if p.startswith("VISAPI_"))
        words = parts[0].split("_")
        for suffix in (p for p in parts[1:] if p.startswith("_")):
            shorthand.update("_".join(words[:cut]) + suffix for cut in range(1, len(words)))
    return full | (shorthand & known)
