"""BENCH_PROFILE=1: after a row's measured runs, one more saturated run under py-spy.

py-spy samples every server worker (`--subprocesses`, `--nonblocking`: the workers are never
paused, so the profile costs them little) and writes the collapsed stacks of the run to
`BENCH_PROFILE_DIR/<row>.txt` (flamegraph.pl and speedscope read them). The summary printed per
row: where the samples were (own time) and which of our functions hold them (inclusive), as
shares of the samples. The figures of the table never come from this run.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import sys
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

PROFILE_DIR = Path(os.environ.get("BENCH_PROFILE_DIR", "/tmp/visapi-bench-profile"))
RATE_HZ = 250
# Frames of these packages count as "ours" in the inclusive list.
OURS = ("app/", "graph/", "domain/", "infrastructure/")


@dataclass
class Profile:
    samples: int
    own: list[tuple[str, float]]  # frame, share of samples
    ours: list[tuple[str, float]]
    path: Path

    def describe(self, top: int = 12) -> str:
        lines = [f"profile ({self.samples:,} samples, {self.path}):", "  own time:"]
        lines += [f"    {share:5.1%}  {frame}" for frame, share in self.own[:top]]
        lines.append("  inclusive, our code:")
        lines += [f"    {share:5.1%}  {frame}" for frame, share in self.ours[:top]]
        return "\n".join(lines)


def py_spy() -> str:
    found = shutil.which("py-spy") or str(Path(sys.executable).parent / "py-spy")
    if not Path(found).exists():
        raise RuntimeError("BENCH_PROFILE needs py-spy: .venv/bin/pip install py-spy")
    return found


async def record(pid: int, seconds: float, out: Path) -> None:
    """py-spy record over the process tree of `pid` for `seconds` (raw collapsed stacks)."""
    out.parent.mkdir(parents=True, exist_ok=True)
    argv = [
        py_spy(), "record", "--pid", str(pid), "--subprocesses", "--nonblocking",
        "--rate", str(RATE_HZ), "--duration", str(max(1, round(seconds))),
        "--format", "raw", "--output", str(out),
    ]  # fmt: skip
    proc = await asyncio.create_subprocess_exec(
        *argv, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT
    )
    text, _ = await asyncio.wait_for(proc.communicate(), seconds + 60)
    if proc.returncode != 0:
        raise RuntimeError(f"py-spy failed ({proc.returncode}): {text.decode()[-500:]}")


def _frame(raw: str) -> str:
    # py-spy's raw frames read "function (path/to/file.py:line)"; keep the function and file.
    name, _, where = raw.partition(" (")
    path = where.rstrip(")").rsplit(":", 1)[0]
    for marker in ("site-packages/", "/lib/python3.11/"):
        if marker in path:
            path = path.split(marker, 1)[1]
            break
    else:
        for prefix in OURS:
            at = path.find("/" + prefix)
            if at >= 0:
                path = path[at + 1 :]
                break
    return f"{name} ({path})"


def summarize(path: Path) -> Profile:
    own: Counter[str] = Counter()
    ours: Counter[str] = Counter()
    total = 0
    for line in path.read_text(errors="replace").splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not stack or not count_text.isdigit():
            continue
        count = int(count_text)
        frames = [_frame(f) for f in stack.split(";")[1:]]  # the first is the process
        if not frames:
            continue
        total += count
        own[frames[-1]] += count
        for frame in set(frames):
            if frame.split(" (", 1)[1].startswith(OURS):
                ours[frame] += count
    share = max(total, 1)
    return Profile(
        samples=total,
        own=[(f, n / share) for f, n in own.most_common()],
        ours=[(f, n / share) for f, n in ours.most_common()],
        path=path,
    )
