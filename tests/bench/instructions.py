"""`make bench-instructions [REVS="a b"]`: CPU instructions per request, counted by callgrind.

On a shared machine req/s moves by ±20 % between runs (and the host's speed from one session to
the next). Instruction counts do not: the same code, inputs and services give the same count
whatever else runs. This counts them per request and row, for the working tree and for any git
revisions given, so that a change can be judged by what it costs, not by a noisy throughput.

Per (revision, row): `instructions_driver.py` sends W warm-up requests and then N measured ones,
sequentially, in-process through the app's ASGI interface, against PostgreSQL and Redis, under
`valgrind --tool=callgrind`. A second run with N=0 is subtracted, so imports, startup and the
warm-up drop out. What is counted is the app's Python process (the ASGI test client's share
included, the same for every revision), not PostgreSQL's or Redis's own work. The two runs of
a pair go in parallel. Revisions are checked out into temporary worktrees and must share the
working tree's schema (the database is migrated by the working tree).
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
from pathlib import Path

from tests.bench.credentials import BenchAuth, bench_auth
from tests.bench.scenarios import Row, build_rows
from tests.bench.seed import seed_orders
from tests.bench.services import REDIS_URL, BenchDatabase, bench_database, redis_namespace

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
DRIVER = Path(__file__).with_name("instructions_driver.py")
REPORT = Path(os.environ.get("BENCH_REPORT", "/tmp/visapi-bench-instructions.md"))
ROWS = [k for k in os.environ.get("BENCH_ROWS", "order,orders20,create").split(",") if k]
WARM = int(os.environ.get("BENCH_WARMUP_REQUESTS", "20"))
COUNT = int(os.environ.get("BENCH_REQUESTS", "40"))
ORDERS = int(os.environ.get("BENCH_ORDERS", "100000"))
RUN_TIMEOUT_S = 900


def _log(text: str) -> None:
    print(f"bench-instructions: {text}", flush=True)


def _worktree(rev: str, into: Path) -> Path:
    path = into / re.sub(r"[^A-Za-z0-9_.-]", "_", rev)
    subprocess.run(
        ["git", "-C", str(ROOT), "worktree", "add", "--detach", str(path), rev],
        check=True,
        capture_output=True,
    )
    return path


def _remove_worktree(path: Path) -> None:
    subprocess.run(
        ["git", "-C", str(ROOT), "worktree", "remove", "--force", str(path)],
        check=False,
        capture_output=True,
    )


async def _count(
    tree: Path, env: dict[str, str], driver: Path, bodies: Path, n: int, *, counted: bool = True
) -> int:
    """Instructions of one driver run under callgrind (`counted=False`: a plain run, 0)."""
    valgrind = ["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null"]
    argv = [
        *(valgrind if counted else []),
        sys.executable, str(driver), str(bodies), str(WARM), str(n),
    ]  # fmt: skip
    proc = await asyncio.create_subprocess_exec(
        *argv,
        cwd=tree,
        env={**env, "PYTHONPATH": str(tree)},
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        out, err = await asyncio.wait_for(proc.communicate(), RUN_TIMEOUT_S)
    except BaseException:  # Ctrl-C or a timeout: no callgrind run left behind, orphaned
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
        raise
    found = re.search(rb"Collected : (\d+)", err)
    if proc.returncode == 0 and not counted:
        return 0
    if proc.returncode != 0 or found is None:
        text = (out + err).decode(errors="replace")
        raise RuntimeError(f"callgrind run failed ({proc.returncode}) in {tree}:\n{text[-1500:]}")
    return int(found.group(1))


async def _per_request(tree: Path, env: dict[str, str], driver: Path, bodies: Path) -> float:
    # A plain run first, so that both counted runs find the caches (key checks, orders by id,
    # counts) filled: they run side by side, and whichever filled them would pay for it.
    await _count(tree, env, driver, bodies, 0, counted=False)
    base, measured = await asyncio.gather(
        _count(tree, env, driver, bodies, 0), _count(tree, env, driver, bodies, COUNT)
    )
    return (measured - base) / COUNT


def _env(db: BenchDatabase, namespace: str, auth: BenchAuth) -> dict[str, str]:
    assert auth.key is not None
    return {
        **os.environ,
        "VISAPI_DATABASE_URL": db.url,
        "VISAPI_REDIS_URL": REDIS_URL,
        "VISAPI_REDIS_NAMESPACE": namespace,
        "VISAPI_LOG_LEVEL": "WARNING",
        "BENCH_API_KEY": auth.key,
        **auth.settings,
    }


def _table(labels: list[str], rows: list[Row], counts: dict[tuple[str, str], float]) -> str:
    head = "| row | " + " | ".join(f"{label} (M instr/req)" for label in labels)
    if len(labels) > 1:
        head += " | " + " | ".join(f"{label} / {labels[0]}" for label in labels[1:])
    lines = [head + " |", "|---" * (2 * len(labels)) + "|"]
    for row in rows:
        first = counts[(labels[0], row.key)]
        cells = [f"{counts[(label, row.key)] / 1e6:.2f}" for label in labels]
        cells += [f"{counts[(label, row.key)] / first:.3f}" for label in labels[1:]]
        lines.append(f"| {row.label} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


async def _bench(revs: list[str]) -> str:
    labels = ["working tree", *revs]
    main_task = asyncio.current_task()
    assert main_task is not None
    for sig in (signal.SIGINT, signal.SIGTERM):  # cancel: the `finally`s drop what was made
        asyncio.get_running_loop().add_signal_handler(sig, main_task.cancel)
    async with redis_namespace() as namespace, bench_database() as db:
        auth = await bench_auth(db, namespace, BIN / "visapi")
        if auth.key is None:
            raise RuntimeError("this tree has no `visapi keys create`")
        seed = await seed_orders(db.dsn, ORDERS)
        _log(f"seeded {seed.count:,} orders in {seed.total_s:.1f} s")
        rows = [r for r in build_rows(seed.sample_ids) if r.key in ROWS]
        if {r.key for r in rows} != set(ROWS) or any(not r.bodies for r in rows):
            raise RuntimeError(f"BENCH_ROWS: GraphQL rows only (order, orders20, ...); {ROWS}")
        env = _env(db, namespace, auth)
        with tempfile.TemporaryDirectory(prefix="visapi-instr-") as tmp_name:
            tmp = Path(tmp_name)
            driver = tmp / "driver" / DRIVER.name  # its own folder: nothing beside it to import
            driver.parent.mkdir()
            shutil.copy(DRIVER, driver)
            trees = {"working tree": ROOT}
            try:
                for rev in revs:
                    trees[rev] = _worktree(rev, tmp)
                counts: dict[tuple[str, str], float] = {}
                for row in rows:
                    bodies = tmp / f"{row.key}.json"
                    bodies.write_text(json.dumps(list(row.bodies)))
                    for label in labels:
                        counts[(label, row.key)] = await _per_request(
                            trees[label], env, driver, bodies
                        )
                        _log(f"{row.key} @ {label}: {counts[(label, row.key)] / 1e6:.2f} M")
            finally:
                for rev in revs:
                    if rev in trees:
                        _remove_worktree(trees[rev])
    return _table(labels, rows, counts)


def main() -> int:
    if shutil.which("valgrind") is None:
        print("bench-instructions: needs valgrind (apt-get install valgrind)", file=sys.stderr)
        return 2
    revs = sys.argv[1:]
    _log(f"rows {ROWS}; {WARM} warm-up + {COUNT} measured requests each; revisions: "
         f"working tree{''.join(', ' + r for r in revs)}")  # fmt: skip
    try:
        table = asyncio.run(_bench(revs))
    except (KeyboardInterrupt, asyncio.CancelledError):
        print("bench-instructions: interrupted (database and worktrees removed)", file=sys.stderr)
        return 130
    text = (
        "## Instructions per request (callgrind, in-process, sequential)\n\n"
        f"{table}\n\nCounted in the app's Python process over {COUNT} requests after {WARM} "
        "warm-up ones, a run with none subtracted; PostgreSQL's and Redis's own work not "
        "included.\n"
    )
    print("\n" + text, flush=True)
    REPORT.write_text(text)
    _log(f"report written to {REPORT}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
