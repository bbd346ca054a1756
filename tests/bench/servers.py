"""The servers under test: started one at a time in their own process group, killed as a group."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import httpx

from tests.bench.measure import group
from tests.bench.peers import postgraphile_command

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
HOST = "127.0.0.1"


def free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return int(s.getsockname()[1])


@dataclass
class Server:
    kind: str
    port: int
    proc: subprocess.Popen[bytes]
    log: Path

    @property
    def pgid(self) -> int:
        return self.proc.pid

    def url(self, path: str) -> str:
        return f"http://{HOST}:{self.port}{path}"

    def log_tail(self, lines: int = 15) -> str:
        try:
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no log)"


# The baselines served by uvicorn, by kind (tests/bench/baselines.py).
UVICORN_APPS = {
    "bare": "tests.bench.baselines:bare",
    "redis": "tests.bench.baselines:redis_get",
    "naive": "tests.bench.baselines:naive",
    "peer": "tests.bench.baselines:peer",
}


def command(kind: str, port: int, workers: int, env: dict[str, str]) -> list[str]:
    if kind == "product":
        serve = ["serve", "--host", HOST, "--port", str(port), "--workers", str(workers)]
        return [str(BIN / "visapi"), *serve]
    if kind == "postgraphile":
        return postgraphile_command(env["BENCH_PG_DSN"], HOST, port, workers)
    # The product's `serve` turns the access log off; the baselines get the same.
    return [
        sys.executable,
        "-m",
        "uvicorn",
        UVICORN_APPS[kind],
        "--host",
        HOST,
        "--port",
        str(port),
        "--workers",
        str(workers),
        "--no-access-log",
    ]


def start(kind: str, workers: int, env: dict[str, str], log: Path) -> Server:
    port = free_port()
    full_env = {**os.environ, **env, "PYTHONPATH": str(ROOT)}
    with log.open("wb") as out:
        proc = subprocess.Popen(
            command(kind, port, workers, env),
            cwd=ROOT,
            env=full_env,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: the whole tree is killed together
        )
    return Server(kind, port, proc, log)


async def wait_ready(
    server: Server,
    path: str,
    body: str | None,
    workers: int,
    headers: dict[str, str] | None = None,
    limit_s: float = 60,
) -> None:
    """Until `path` answers 200 (POST `body` if given), every worker exists, and the tree's CPU
    has gone quiet.

    A worker still importing takes no connections, so a first 200 does not mean all are up;
    when the group's CPU stops moving, every worker has finished starting.
    """
    deadline = time.monotonic() + limit_s
    async with httpx.AsyncClient(timeout=2, headers=headers) as client:
        while True:
            if server.proc.poll() is not None:
                raise RuntimeError(f"{server.kind} server exited:\n{server.log_tail()}")
            if time.monotonic() > deadline:
                raise TimeoutError(
                    f"{server.kind} server not ready in {limit_s}s:\n{server.log_tail()}"
                )
            try:
                if body is None:
                    answer = await client.get(server.url(path))
                else:
                    json = {"Content-Type": "application/json"}
                    answer = await client.post(server.url(path), content=body, headers=json)
                ok = answer.status_code == 200
            except httpx.HTTPError:
                ok = False
            if ok and len(group(server.pgid)) > workers and await _quiet(server.pgid):
                return
            await asyncio.sleep(0.2)


async def _quiet(pgid: int, window: float = 0.5, budget: float = 0.03) -> bool:
    before = sum(s.cpu_s for s in group(pgid))
    await asyncio.sleep(window)
    return sum(s.cpu_s for s in group(pgid)) - before <= budget


def stop(server: Server, grace: float = 10) -> None:
    """SIGTERM to the whole group, SIGKILL to whatever is left after `grace` seconds."""
    for sig, wait in ((signal.SIGTERM, grace), (signal.SIGKILL, 5.0)):
        with contextlib.suppress(ProcessLookupError):
            os.killpg(server.pgid, sig)
        end = time.monotonic() + wait
        while time.monotonic() < end:
            server.proc.poll()  # reaps the group leader once it has exited
            if not group(server.pgid):
                return
            time.sleep(0.1)
