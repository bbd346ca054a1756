"""Faults of a test's own redis-server (the `private_redis` fixture): paused with SIGSTOP (its
data survives, and commands sent meanwhile run when it resumes) or killed and started again
empty on the same port; and a hook that fires a fault in the middle of a transaction."""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
import subprocess
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.util import await_only

from infrastructure.cache.redis import BREAKER_SECONDS
from tests.services import listening
from tests.waiting import until
from visapi.bootstrap import Container

FAULTS = ("pause", "kill")


class RedisFault:
    """Starts and ends one kind of outage of the redis-server `process` listening at `url`."""

    def __init__(self, process: subprocess.Popen[bytes], url: str, kind: str) -> None:
        assert kind in FAULTS, kind
        self.process, self.kind = process, kind
        self.port = urlsplit(url).port
        self.restarted: list[subprocess.Popen[bytes]] = []

    def begin(self) -> None:
        if self.kind == "pause":
            os.kill(self.process.pid, signal.SIGSTOP)
        else:
            self.process.kill()
            self.process.wait(timeout=10)

    def end(self) -> None:
        if self.kind == "pause":
            os.kill(self.process.pid, signal.SIGCONT)
            return
        binary = shutil.which("redis-server")
        assert binary is not None
        self.process = subprocess.Popen(
            [binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", ""],
            stdout=subprocess.DEVNULL,
        )
        self.restarted.append(self.process)
        process, port = self.process, self.port or 0
        until(lambda: listening(port, process), timeout_s=5, why="redis-server did not start again")

    def close(self) -> None:
        if self.kind == "pause" and self.process.poll() is None:
            os.kill(self.process.pid, signal.SIGCONT)  # the fixture's kill needs it running
        for process in self.restarted:
            process.kill()
            process.wait(timeout=10)


async def answering(*containers: Container) -> None:
    """Wait until each app's cache reaches Redis again, and its breakers have closed: a check
    then really goes through Redis, not around it.

    The two waits are the breakers' own time (BREAKER_SECONDS): the fail-open adapters (rate
    limits, key usage) expose no state to poll, and a fake clock cannot reach into the app's
    process-wide adapters from here. They decide nothing by themselves: the loop and the
    test's own assertions do."""
    await asyncio.sleep(BREAKER_SECONDS + 0.2)
    for container in containers:
        for _ in range(100):
            if (await container.cache.lookup("probe", "x"))[1] is not None:
                break
            await asyncio.sleep(0.1)
        else:
            raise AssertionError("the cache does not reach Redis again")
    await asyncio.sleep(BREAKER_SECONDS + 0.2)


@contextmanager
def before_update(
    engine: AsyncEngine, table: str, action: Callable[[], Awaitable[Any]]
) -> Iterator[list[str]]:
    """Run `action` once, just before the first `UPDATE <table>` executes on `engine`: inside
    the mutation's transaction, after anything the handler did before it, before its commit."""
    fired: list[str] = []

    def hook(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        if not fired and statement.lstrip().upper().startswith(f"UPDATE {table.upper()} "):
            fired.append(statement)
            await_only(action())  # the async driver runs this listener in a greenlet

    event.listen(engine.sync_engine, "before_cursor_execute", hook)
    try:
        yield fired
    finally:
        event.remove(engine.sync_engine, "before_cursor_execute", hook)
