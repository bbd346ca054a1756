"""Real `visapi worker` processes for the end-to-end tests, each in its own process group,
started with the test's settings as `VISAPI_*` variables and stopped (or killed) as a whole."""

from __future__ import annotations

import os
import signal
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, fields
from pathlib import Path

from tests.processes import CLI, ROOT, base_env
from visapi.settings import Settings


def settings_env(settings: Settings) -> dict[str, str]:
    """The `VISAPI_*` variables that give a process these settings (defaults left out)."""
    env = base_env(VISAPI_LOG_LEVEL="INFO")
    for f in fields(Settings):
        value = getattr(settings, f.name)
        if value is not None and value != f.default:
            env[f"VISAPI_{f.name.upper()}"] = str(value)
    return env


@dataclass
class Processes:
    """Worker processes of one test, each in its own process group (killed as a whole)."""

    env: dict[str, str]
    folder: Path
    started: list[tuple[subprocess.Popen[bytes], Path]] = field(default_factory=list)

    def start(self, name: str, command: list[str]) -> subprocess.Popen[bytes]:
        log = self.folder / f"{name}.log"
        with log.open("w") as out:
            process = subprocess.Popen(
                command, cwd=ROOT, env=self.env, stdout=out, stderr=out, start_new_session=True
            )
        self.started.append((process, log))
        return process

    def worker(self, name: str, *args: str) -> subprocess.Popen[bytes]:
        """A real `visapi worker` (all queues unless `--queues` is given)."""
        return self.start(name, [*CLI, "worker", *args])

    def log(self, process: subprocess.Popen[bytes]) -> str:
        return next(log.read_text() for p, log in self.started if p is process)

    def logs(self) -> str:
        return "\n".join(f"--- {log.name}\n{log.read_text()[-4000:]}" for _, log in self.started)

    def alive(self) -> None:
        for process, log in self.started:
            if process.returncode is None and process.poll() is not None:
                raise AssertionError(f"{log.name} exited:\n{log.read_text()[-4000:]}")

    def kill(self, process: subprocess.Popen[bytes]) -> None:
        """SIGKILL the whole group: no shutdown hook runs, nothing is acknowledged."""
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)

    def stop_all(self) -> None:
        running = [p for p, _ in self.started if p.poll() is None]
        for process in running:
            os.killpg(process.pid, signal.SIGTERM)
        for process in running:
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()


@contextmanager
def processes(settings: Settings, folder: Path) -> Iterator[Processes]:
    procs = Processes(settings_env(settings), folder)
    try:
        yield procs
    finally:
        procs.stop_all()
