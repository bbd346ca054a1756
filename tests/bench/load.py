"""Load runs: wrk at saturation, hey (or paced wrk) at a fixed rate; their output parsed."""

from __future__ import annotations

import asyncio
import json
import re
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
WRK_THREADS = 2
TIMEOUT_S = 10  # a request slower than this counts as a timeout error


@dataclass(frozen=True)
class Load:
    """The numbers of one run; latencies in ms."""

    tool: str
    requests: int
    seconds: float
    p50: float
    p95: float
    p99: float
    errors: dict[str, int] = field(default_factory=dict)  # kind -> count, only non-zero
    sample: str = ""  # the first bad answer, if any

    @property
    def rps(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0

    @property
    def ok(self) -> bool:
        return not self.errors and self.requests > 0


class LoadError(RuntimeError):
    """The load generator failed or printed nothing usable."""


async def _run(argv: list[str], limit_s: float) -> str:
    proc = await asyncio.create_subprocess_exec(
        *argv, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT
    )
    try:
        out, _ = await asyncio.wait_for(proc.communicate(), limit_s)
    except BaseException:  # timeout or Ctrl-C: never leave a load generator running
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
        raise
    text = out.decode(errors="replace")
    if proc.returncode != 0:
        raise LoadError(f"{argv[0]} exited {proc.returncode}:\n{text[-2000:]}")
    return text


async def wrk(
    url: str,
    bodies: Path | None,
    expect: str,
    token: str,
    *,
    seconds: float,
    connections: int,
    rate: float | None = None,
    api_key: str | None = None,
) -> Load:
    """wrk -t2 -cN; with `rate`, paced to about `rate` requests/s in all (wrk_paced.lua).

    With `api_key`, every request carries it as the X-API-Key header.
    """
    script = HERE / ("wrk_paced.lua" if rate else "wrk.lua")
    args = [str(bodies) if bodies else "-", expect, token, api_key or "-"]
    if rate:
        args.append(f"{rate / WRK_THREADS:.3f}")
    argv = [
        "wrk",
        f"-t{WRK_THREADS}",
        f"-c{connections}",
        f"-d{seconds:g}s",
        f"--timeout={TIMEOUT_S}s",
        "-s",
        str(script),
        url,
        "--",
        *args,
    ]
    text = await _run(argv, seconds + 30)
    found = re.search(r"^BENCH_JSON (\{.*\})$", text, re.M)
    if not found:
        raise LoadError(f"wrk printed no result:\n{text[-2000:]}")
    data = json.loads(found.group(1))
    sample = re.search(r"^BENCH_SAMPLE (.*)$", text, re.M)
    kinds = ("connect", "read", "write", "status", "timeout", "bad")
    return Load(
        tool="wrk paced" if rate else "wrk",
        requests=data["requests"],
        seconds=data["duration_us"] / 1e6,
        p50=data["p50_us"] / 1000,
        p95=data["p95_us"] / 1000,
        p99=data["p99_us"] / 1000,
        errors={k: data[k] for k in kinds if data[k]},
        sample=sample.group(1).strip() if sample else "",
    )


async def hey(
    url: str,
    body: str | None,
    *,
    rate: float,
    workers: int,
    seconds: float,
    api_key: str | None = None,
) -> Load:
    """hey -z Ns -c workers -q rate/workers: a closed loop paced by each worker's ticker."""
    argv = [
        "hey",
        "-z",
        f"{seconds:g}s",
        "-c",
        str(workers),
        "-q",
        f"{rate / workers:.3f}",
        "-t",
        str(TIMEOUT_S),
    ]
    if api_key:
        argv += ["-H", f"X-API-Key: {api_key}"]
    if body is not None:
        argv += ["-m", "POST", "-T", "application/json", "-d", body]
    text = await _run([*argv, url], seconds + 30)
    return parse_hey(text)


def _seconds_ms(pattern: str, text: str) -> float:
    found = re.search(pattern, text)
    return float(found.group(1)) * 1000 if found else float("nan")


def parse_hey(text: str) -> Load:
    total = re.search(r"Total:\s+([\d.]+) secs", text)
    if not total:
        raise LoadError(f"hey printed no summary:\n{text[-2000:]}")
    statuses = {int(c): int(n) for c, n in re.findall(r"\[(\d{3})\]\s+(\d+) responses", text)}
    errors = {f"status {c}": n for c, n in statuses.items() if not 200 <= c < 300}
    failed = re.search(r"Error distribution:\n((?:\s+\[\d+\].*\n?)+)", text)
    if failed:
        errors["socket"] = sum(int(n) for n in re.findall(r"\[(\d+)\]", failed.group(1)))
    return Load(
        tool="hey",
        requests=sum(statuses.values()),
        seconds=float(total.group(1)),
        p50=_seconds_ms(r"50% in ([\d.]+) secs", text),
        p95=_seconds_ms(r"95% in ([\d.]+) secs", text),
        p99=_seconds_ms(r"99% in ([\d.]+) secs", text),
        errors=errors,
        sample=failed.group(1).strip()[:400] if failed else "",
    )
