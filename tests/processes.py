"""Real `visapi` processes for tests: environment, start, wait until healthy, stop."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

from tests.auth import AUDIENCE, ISSUER, JWT_SECRET
from tests.services import free_port
from tests.waiting import until

ROOT = Path(__file__).resolve().parents[1]
CLI = [sys.executable, "-m", "visapi.cli"]


def serve(port: int, env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    command = [*CLI, "serve", "--port", str(port)]
    with log.open("w") as out:
        return subprocess.Popen(command, cwd=ROOT, env=env, stdout=out, stderr=out)


def wait_until_up(process: subprocess.Popen[bytes], base: str, log: Path) -> None:
    def up() -> bool:
        if process.poll() is not None:
            pytest.fail(f"the server exited:\n{log.read_text()}", pytrace=False)
        try:
            return httpx.get(f"{base}/api/v1/healthz", timeout=1).status_code == 200
        except httpx.TransportError:
            return False

    until(up, timeout_s=30, why=lambda: f"the server did not start:\n{log.read_text()}")


@contextmanager
def servers(env: dict[str, str], folder: Path, count: int) -> Iterator[list[str]]:
    started: list[subprocess.Popen[bytes]] = []
    try:
        bases = []
        for n in range(count):
            port, log = free_port(), folder / f"serve-{n}.log"
            started.append(serve(port, env, log))
            bases.append(f"http://127.0.0.1:{port}")
            wait_until_up(started[-1], bases[-1], log)  # one at a time: a clean first start
        yield bases
    finally:
        for process in started:
            process.terminate()
        for process in started:
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def base_env(**values: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("VISAPI_")}
    return {
        **env,
        "VISAPI_LOG_LEVEL": "WARNING",
        "VISAPI_API_KEY_HASH_COST": "low",
        "VISAPI_JWT_SECRET": JWT_SECRET,
        "VISAPI_JWT_ISSUER": ISSUER,
        "VISAPI_JWT_AUDIENCE": AUDIENCE,
        **values,
    }
