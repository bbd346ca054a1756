"""The fault run's own PostgreSQL cluster and redis-server: made in a temporary directory, crashed
and restarted at will, removed at the end. Nothing here touches the machine's shared services.
And the fake vendor's Meta status webhooks, turned on once it answers.

PostgreSQL's server binaries (in `pg_config --bindir`, not on PATH) refuse to run as root, so
as root they run as the `postgres` user, in a directory that user owns.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path

import asyncpg
import httpx


class MissingBinary(RuntimeError):
    """A server binary the run needs is not installed."""


async def report_statuses(vendor_url: str, webhook_url: str, secret: str, delay_s: float) -> None:
    """Turn on the fake vendor's delivery webhooks (Meta's statuses), once it answers."""
    hook = {"url": webhook_url, "secret": secret, "delay": delay_s}
    async with httpx.AsyncClient(base_url=vendor_url, timeout=5) as vendor:
        for _ in range(100):
            try:
                (await vendor.post("/_fake/statuses", json=hook)).raise_for_status()
                return
            except httpx.TransportError:
                await asyncio.sleep(0.1)
    raise RuntimeError(f"the fake vendor at {vendor_url} did not answer")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait_port(port: int, limit_s: float, what: str) -> None:
    deadline = time.monotonic() + limit_s
    while True:
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        if time.monotonic() > deadline:
            raise RuntimeError(f"{what} did not listen on {port} within {limit_s:.0f} s")
        time.sleep(0.05)


def _pg_bindir() -> Path:
    pg_config = shutil.which("pg_config")
    if pg_config is None:
        raise MissingBinary("pg_config is not installed (PostgreSQL server binaries needed)")
    bindir = Path(subprocess.check_output([pg_config, "--bindir"], text=True).strip())
    for name in ("initdb", "pg_ctl", "postgres"):
        if not (bindir / name).exists():
            raise MissingBinary(f"{bindir / name} is missing (PostgreSQL server binaries needed)")
    return bindir


class PrivatePostgres:
    """A cluster of our own on a free port: `start`, `crash` (immediate stop), `close`."""

    def __init__(self) -> None:
        self._bin = _pg_bindir()
        self.port = free_port()
        self.root = Path(tempfile.mkdtemp(prefix="visapi-faults-pg-"))
        self._as: list[str] = []
        if os.geteuid() == 0:
            # initdb and postgres refuse root: the cluster belongs to the postgres user.
            user = pwd.getpwnam("postgres")
            os.chown(self.root, user.pw_uid, user.pw_gid)
            self._as = ["runuser", "-u", "postgres", "--"]
        self.data = self.root / "data"
        self._run("initdb", "-D", str(self.data), "-U", "postgres", "-A", "trust", "--no-sync")

    @property
    def admin_dsn(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def dsn(self, database: str) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{database}"

    async def create_database(self, name: str) -> None:
        conn = await asyncpg.connect(self.admin_dsn, timeout=10)
        try:
            await conn.execute(f'CREATE DATABASE "{name}"')
        finally:
            await conn.close()

    def _run(self, tool: str, *args: str) -> None:
        done = subprocess.run(
            [*self._as, str(self._bin / tool), *args],
            cwd=self.root,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        if done.returncode != 0:
            raise RuntimeError(f"{tool} {' '.join(args)} failed:\n{done.stdout}{done.stderr}")

    def start(self) -> None:
        options = (
            f"-p {self.port} -c listen_addresses=127.0.0.1 -k {self.root} -c max_connections=200"
        )
        log = str(self.root / "postgres.log")
        self._run("pg_ctl", "-D", str(self.data), "-o", options, "-l", log, "-w", "start")
        _wait_port(self.port, 30, "PostgreSQL")

    def crash(self) -> None:
        """Stop without a shutdown checkpoint, as a crash would: recovery replays the WAL."""
        self._run("pg_ctl", "-D", str(self.data), "-m", "immediate", "-w", "stop")

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self._run("pg_ctl", "-D", str(self.data), "-m", "immediate", "-w", "stop")
        shutil.rmtree(self.root, ignore_errors=True)


class PrivateRedis:
    """A redis-server of our own with an append-only file, as production keeps its queues:
    `stop` is a clean shutdown (SIGTERM), `start` again reloads the queues from the file."""

    def __init__(self) -> None:
        binary = shutil.which("redis-server")
        if binary is None:
            raise MissingBinary("redis-server is not installed")
        self._binary = binary
        self.port = free_port()
        self.root = Path(tempfile.mkdtemp(prefix="visapi-faults-redis-"))
        self._proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        argv = [
            self._binary,
            "--port",
            str(self.port),
            "--bind",
            "127.0.0.1",
            "--dir",
            str(self.root),
            "--save",
            "",
            "--appendonly",
            "yes",
            "--appendfsync",
            "everysec",
        ]
        log = (self.root / "redis.log").open("ab")
        self._proc = subprocess.Popen(argv, stdout=log, stderr=log, start_new_session=True)
        _wait_port(self.port, 30, "redis-server")

    def stop(self) -> None:
        if self._proc is not None and self._proc.poll() is None:
            self._proc.send_signal(signal.SIGTERM)
            try:
                self._proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self._proc.kill()
                self._proc.wait()
        self._proc = None

    def close(self) -> None:
        self.stop()
        shutil.rmtree(self.root, ignore_errors=True)
