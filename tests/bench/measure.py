"""What the servers cost, read from /proc: CPU of process groups and PostgreSQL, peak RSS, libs."""

from __future__ import annotations

import asyncio
import contextlib
import os
import resource
import time
from dataclasses import dataclass
from pathlib import Path

import asyncpg

from tests.bench.services import PG_ADMIN, connections_to

TICK = os.sysconf("SC_CLK_TCK")


@dataclass(frozen=True)
class ProcStat:
    pid: int
    comm: str
    state: str
    ppid: int
    pgrp: int
    cpu_s: float  # utime + stime
    children_cpu_s: float  # cutime + cstime: reaped children


def proc_stat(pid: int) -> ProcStat | None:
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except OSError:  # gone meanwhile
        return None
    comm = raw[raw.index("(") + 1 : raw.rindex(")")]
    rest = raw[raw.rindex(")") + 2 :].split()
    return ProcStat(
        pid=pid,
        comm=comm,
        state=rest[0],
        ppid=int(rest[1]),
        pgrp=int(rest[2]),
        cpu_s=(int(rest[11]) + int(rest[12])) / TICK,
        children_cpu_s=(int(rest[13]) + int(rest[14])) / TICK,
    )


def all_stats() -> list[ProcStat]:
    stats = (proc_stat(int(p)) for p in os.listdir("/proc") if p.isdigit())
    return [s for s in stats if s is not None]


def group(pgid: int) -> list[ProcStat]:
    """A server's process tree: it was started in its own session, so its group is its tree."""
    return [s for s in all_stats() if s.pgrp == pgid and s.state != "Z"]


def _cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return ""


def postgres_cpu_s(dbname: str) -> float:
    """PostgreSQL's own processes and the backends of our database (not others' tests)."""
    total = 0.0
    for s in all_stats():
        if s.comm != "postgres":
            continue
        cmd = _cmdline(s.pid)
        client = "(" in cmd and ")" in cmd  # "postgres: 15/main: user db 127.0.0.1(5432) idle"
        if not client or f" {dbname} " in cmd:
            total += s.cpu_s
    return total


def machine_cpu_s() -> tuple[float, float, float]:
    """All cores, from /proc/stat: (process time, irq + softirq time, steal time) in seconds.

    Loopback traffic is processed in softirq, which no process's utime/stime includes.
    """
    f = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:9]]
    user, nice, system, _idle, _iowait, irq, softirq, steal = f
    return (user + nice + system) / TICK, (irq + softirq) / TICK, steal / TICK


def children_cpu_s() -> float:
    """CPU of this process's reaped children: around one wrk/hey run, that run's CPU."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


@dataclass(frozen=True)
class CpuSnapshot:
    wall: float
    server: float
    postgres: float
    loadgen: float
    machine: tuple[float, float, float]

    @classmethod
    def take(cls, pgid: int, dbname: str) -> CpuSnapshot:
        return cls(
            wall=time.monotonic(),
            server=sum(s.cpu_s + s.children_cpu_s for s in group(pgid)),
            postgres=postgres_cpu_s(dbname),
            loadgen=children_cpu_s(),
            machine=machine_cpu_s(),
        )


@dataclass(frozen=True)
class CpuUsage:
    """CPU seconds each party used during a run (2 cores: at most 2 s per second of wall)."""

    wall: float
    server: float
    postgres: float
    loadgen: float
    softirq: float  # irq + softirq: mostly the loopback network
    steal: float  # taken by the hypervisor for other machines
    other: float  # other processes: other sessions' tests, this harness, Redis

    @classmethod
    def between(cls, a: CpuSnapshot, b: CpuSnapshot) -> CpuUsage:
        server, pg, gen = b.server - a.server, b.postgres - a.postgres, b.loadgen - a.loadgen
        procs, irq, steal = (y - x for x, y in zip(a.machine, b.machine, strict=True))
        other = max(0.0, procs - server - pg - gen)
        return cls(b.wall - a.wall, server, pg, gen, irq, steal, other)


def peak_rss_mb(pgid: int) -> dict[int, float]:
    """VmHWM (peak resident set) of each process of the group, in MB."""
    peaks = {}
    for s in group(pgid):
        with contextlib.suppress(OSError):
            for line in Path(f"/proc/{s.pid}/status").read_text().splitlines():
                if line.startswith("VmHWM:"):
                    peaks[s.pid] = int(line.split()[1]) / 1024
    return peaks


def loaded_modules(pgid: int, names: tuple[str, ...] = ("uvloop", "httptools")) -> set[str]:
    """Which of `names` the group's processes have mapped (the loop and parser really in use)."""
    found: set[str] = set()
    for s in group(pgid):
        with contextlib.suppress(OSError):
            maps = Path(f"/proc/{s.pid}/maps").read_text()
            found.update(n for n in names if f"/{n}/" in maps)
    return found


class ConnectionSampler:
    """Peak of pg_stat_activity rows for one database, sampled every `every` seconds."""

    def __init__(self, dbname: str, every: float = 0.2) -> None:
        self.dbname, self.every, self.peak = dbname, every, 0
        self._stop = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    async def __aenter__(self) -> ConnectionSampler:
        # Connected to the admin database, so the sampler is not one of the connections counted.
        self._conn = await asyncpg.connect(PG_ADMIN, timeout=10)
        self._task = asyncio.create_task(self._run())
        return self

    async def _run(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, await connections_to(self._conn, self.dbname))
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stop.wait(), self.every)

    async def activity(self) -> str:
        """The database's sessions grouped by state and statement, e.g. `20 idle "COMMIT;"`."""
        rows = await self._conn.fetch(
            "SELECT state, left(query, 40) AS q, count(*) AS n FROM pg_stat_activity "
            "WHERE datname = $1 GROUP BY 1, 2 ORDER BY 3 DESC",
            self.dbname,
        )
        return "; ".join(f'{r["n"]} {r["state"]} "{r["q"]}"' for r in rows) or "none"

    async def __aexit__(self, *exc: object) -> None:
        assert self._task is not None
        self._stop.set()
        try:
            await asyncio.wait_for(self._task, 10)
        finally:
            await self._conn.close(timeout=5)
