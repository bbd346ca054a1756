"""What the bench prints: the environment, the table in Markdown, CPU shares, targets met/missed."""

from __future__ import annotations

import importlib.metadata
import importlib.util
import os
import platform
from dataclasses import dataclass, field
from pathlib import Path

from tests.bench.census import REQUESTS, Census
from tests.bench.load import Load
from tests.bench.measure import CpuUsage
from tests.bench.scenarios import Row
from tests.bench.targets import REFERENCE_NAIVE_RPS, issue13_targets, speed, targets_table

PACKAGES = ("uvicorn", "starlette", "strawberry-graphql", "graphql-core", "sqlalchemy", "asyncpg",
            "redis", "uvloop", "httptools", "orjson")  # fmt: skip


@dataclass
class RowResult:
    row: Row
    sat: Load | None = None
    fixed: dict[str, Load] = field(default_factory=dict)  # "hey" / "wrk" (paced) -> run
    fixed_target: float = 0.0  # the rate asked of the fixed-rate runs
    cpu: CpuUsage | None = None
    rss_mb: dict[int, float] = field(default_factory=dict)  # pid -> VmHWM
    conns: int | None = None
    sql: Census | None = None
    libs: set[str] = field(default_factory=set)
    problems: list[str] = field(default_factory=list)
    note: str = ""  # why the row was not loaded: "needs part C ...", "unavailable: ..."

    @property
    def peak_rss(self) -> float | None:
        return max(self.rss_mb.values()) if self.rss_mb else None

    @property
    def clean(self) -> bool:
        runs = [self.sat, *self.fixed.values()]
        return not self.problems and all(r is not None and r.ok for r in runs)


def environment(pg_version: str, redis_version: str, wrk: str, workers: int) -> list[str]:
    versions = ", ".join(f"{p} {_version(p)}" for p in PACKAGES)
    loop = "uvloop" if importlib.util.find_spec("uvloop") else "asyncio"
    http = "httptools" if importlib.util.find_spec("httptools") else "h11"
    return [
        f"CPUs: {os.cpu_count()} ({platform.processor() or platform.machine()}), "
        f"load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}",
        f"Python {platform.python_version()}; {versions}",
        f"uvicorn --workers {workers}, loop/http 'auto' -> {loop} + {http} "
        "(per server: what its workers really mapped, below)",
        f"{pg_version}; Redis {redis_version}; {wrk}; hey (Debian)",
    ]


def save(text: str, path: Path) -> str:
    """Write the report; what happened, for the log."""
    try:
        path.write_text(text)
    except OSError as exc:
        return f"could not write {path}: {exc}"
    return f"report also written to {path}"


def _version(package: str) -> str:
    try:
        return importlib.metadata.version(package)
    except importlib.metadata.PackageNotFoundError:
        return "-"


def _n(x: float | None, digits: int = 0) -> str:
    if x is None or x != x:  # None or NaN
        return "-"
    return f"{x:,.{digits}f}"


def table(results: list[RowResult]) -> str:
    bare = _rps(results, "bare")
    lines = [
        "| row | req/s | p50 ms | p95 ms | p99 ms | ½ rate req/s | p95 ms at ½ rate: hey / wrk "
        "| x bare | server CPU µs/req | peak RSS MB/proc | DB conns | SQL/req (+tx) | Redis/req "
        "| clean |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|:-:|",
    ]
    for r in results:
        s = r.sat
        ratio = f"{s.rps / bare:.3f}" if s and bare else "-"
        cpu = f"{r.cpu.server / s.requests * 1e6:,.0f}" if r.cpu and s and s.requests else "-"
        fixed = " / ".join(_fixed(r, tool) for tool in ("hey", "wrk"))
        sql = f"{r.sql.statements:g} (+{r.sql.tx:g})" if r.sql else "-"
        if r.sql and r.sql.how != "measured":
            sql += f" {r.sql.how}"
        redis = f"{r.sql.redis:g}" if r.sql else "-"
        p50, p95, p99 = (s.p50, s.p95, s.p99) if s else (None, None, None)
        label = f"{r.row.label}: **{r.note}**" if r.note else r.row.label
        lines.append(
            f"| {label} | {_n(s.rps if s else None)} | {_n(p50, 1)} "
            f"| {_n(p95, 1)} | {_n(p99, 1)} | {_n(r.fixed_target or None)} | {fixed} | {ratio} "
            f"| {cpu} "
            f"| {_n(r.peak_rss, 1)} | {_n(r.conns)} | {sql} | {redis} "
            f"| {'-' if r.note else 'yes' if r.clean else 'NO'} |"
        )
    return "\n".join(lines)


def key_checks(sql: dict[str, Census]) -> str:
    """What the census saw of the api_keys table: a key check that missed the cache reads it."""
    product = [c for k, c in sql.items() if k not in ("bare", "redis", "naive", "peer")]
    warm = sum(c.keys_warm for c in product)
    measured = sum(c.keys for c in product) * REQUESTS
    return (
        f"api_keys statements in the product census: {warm} during the warm-ups (a check missing "
        f"the cache: lookup, argon2 verify, re-read), {measured:g} in the "
        f"{REQUESTS * len(product)} measured requests"
    )


def summary(r: RowResult) -> str:
    s = r.sat
    text = f"{r.row.label}: "
    if s:
        text += f"{s.rps:,.0f} req/s, p50/p95/p99 {s.p50:.1f}/{s.p95:.1f}/{s.p99:.1f} ms"
    for tool, f in r.fixed.items():
        text += f"; ½ rate {tool} ({f.rps:,.0f} req/s) p95 {f.p95:.1f} ms"
    if not r.clean:
        text += " [FLAGGED]"
    return text


def _fixed(r: RowResult, tool: str) -> str:
    """p95 of one fixed-rate run, with the rate it reached when short of the one asked."""
    f = r.fixed.get(tool)
    if f is None:
        return "-"
    short = f" (got {f.rps:,.0f}/s)" if f.rps < 0.95 * r.fixed_target else ""
    return f"{f.p95:.1f}{short}"


def cpu_table(results: list[RowResult]) -> str:
    lines = [
        "| row (saturated run) | wall s | server | wrk | PostgreSQL | irq+softirq | steal "
        "| other | loop/http mapped |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    for r in results:
        c = r.cpu
        if c is None:
            lines.append(f"| {r.row.label} |" + " - |" * 8)
            continue
        libs = " + ".join(sorted(r.libs)) or "asyncio + h11"
        if r.row.server == "postgraphile":
            libs = "node (not Python)"
        lines.append(
            f"| {r.row.label} | {c.wall:.1f} | {c.server:.1f} | {c.loadgen:.1f} "
            f"| {c.postgres:.1f} | {c.softirq:.1f} | {c.steal:.1f} | {c.other:.1f} | {libs} |"
        )
    return "\n".join(lines)


def problems(results: list[RowResult]) -> list[str]:
    out = []
    for r in results:
        for load in (r.sat, *r.fixed.values()):
            if load and load.errors:
                out.append(f"{r.row.label}: {load.tool} errors {load.errors}; first: {load.sample}")
        if r.sat is not None and r.sat.requests == 0:
            out.append(f"{r.row.label}: no request completed in the saturated run")
        out += [f"{r.row.label}: {p}" for p in r.problems]
    return out


def _rps(results: list[RowResult], key: str) -> float:
    for r in results:
        if r.row.key == key and r.sat:
            return r.sat.rps
    return 0.0


def _speed_line(results: list[RowResult]) -> str:
    f = speed(results)
    if f is None:
        return "Machine speed: not measured (no naive baseline row)."
    return (
        f"Machine speed: the naive baseline ran at {f * REFERENCE_NAIVE_RPS:,.0f} req/s here, "
        f"{REFERENCE_NAIVE_RPS} in PERFORMANCE.md (x{f:.2f}). The absolute targets were set "
        "against PERFORMANCE.md's machine; a missed one is also judged scaled (req/s times "
        "that factor, p95 divided by it). The raw verdict stands as printed."
    )


def document(
    env_lines: list[str],
    setup_lines: list[str],
    results: list[RowResult],
    found: list[tuple[str, str, str]],
) -> str:
    """The whole report in Markdown."""
    text = "\n".join(
        [
            "## Environment",
            "",
            *(f"- {line}" for line in env_lines + setup_lines),
            "",
            "## Results",
            "",
            table(results),
            "",
            "SQL/req: statements SQLAlchemy sent (in-process census: 50 requests after a warm-up); "
            "(+tx): BEGIN/COMMIT/ROLLBACK (and asyncpg pool resets) beside them; Redis/req: "
            "commands of the app's async Redis client (cache, rate limits, key checks and usage; "
            "not the job broker). Server CPU: utime+stime of the server's process group over the "
            "saturated run / requests.",
            "",
            "## CPU seconds during the saturated runs (2 cores shared)",
            "",
            cpu_table(results),
            "",
            "## Targets (issue 13; ratios within this run, p95 at half the saturated rate)",
            "",
            targets_table(issue13_targets(results)),
            "",
            "## Targets (issue 3; p95 judged at saturation, 50 connections)",
            "",
            targets_table(found),
            "",
            _speed_line(results),
            "",
        ]
    )
    flagged = problems(results)
    if flagged:
        text += "\n## Flagged\n\n" + "\n".join(f"- {p}" for p in flagged) + "\n"
    return text
