"""Workflow runs per minute: a 3-step workflow (slack.send, delay 0, slack.send) against the
local fake chat server, beside a no-op baseline (three delay-0 steps, no vendor).

    .venv/bin/python -m tests.bench.workflow_runs [--runs 300] [--concurrency 8]
        [--database-url postgresql+asyncpg://postgres@127.0.0.1:5432/<db>]

Without a URL a migrated SQLite file in a temporary folder is used. Runs are queued through
the bus (row + outbox) and executed through the same handler the `run_workflow` actor calls,
`concurrency` at a time, so the figure is the executor's own throughput (no broker hop).
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import tempfile
import time
from pathlib import Path
from typing import Any

from app.workflows.commands import CreateWorkflow, ExecuteRun, StartRun
from domain.workflows.runs import RunStatus
from infrastructure.db.migrate import upgrade_async
from tests.fake_chat import fake_chat
from visapi.bootstrap import Container, bootstrap
from visapi.settings import Settings

DELAY = {"type": "delay", "config": {"seconds": 0}}


def three_steps(name: str, vendor: bool) -> dict[str, Any]:
    def slack(i: int) -> dict[str, Any]:
        return {
            "id": f"s{i}",
            "type": "slack.send",
            "config": {"channel": "#bench", "message": "run {{run.id}}"},
        }

    steps = (
        [slack(1), {"id": "d", **DELAY}, slack(2)]
        if vendor
        else [{"id": f"d{i}", **DELAY} for i in range(3)]
    )
    return {"name": name, "triggers": [{"type": "manual"}], "steps": steps}


async def measure(c: Container, name: str, vendor: bool, runs: int, concurrency: int) -> float:
    workflow = await c.bus.handle(CreateWorkflow(three_steps(name, vendor)))
    ids = [(await c.bus.handle(StartRun(workflow.id, "manual", {}))).id for _ in range(runs)]
    gate = asyncio.Semaphore(concurrency)

    async def one(run_id: Any) -> RunStatus:
        async with gate:
            status: RunStatus = await c.bus.handle(ExecuteRun(run_id))
            return status

    started = time.perf_counter()
    statuses = await asyncio.gather(*(one(i) for i in ids))
    elapsed = time.perf_counter() - started
    assert all(s is RunStatus.SUCCEEDED for s in statuses), set(statuses)
    return runs / elapsed * 60


async def main_async(args: argparse.Namespace) -> None:
    url = args.database_url
    if url is None:
        folder = Path(tempfile.mkdtemp(prefix="visapi-bench-wf-"))
        url = f"sqlite+aiosqlite:///{folder / 'bench.db'}"
    await upgrade_async(url)
    with fake_chat() as chat:
        settings = dataclasses.replace(
            Settings(database_url=url),
            slack_webhook_url=chat.url,
            db_pool_size=args.concurrency + 2,
        )
        c = bootstrap(settings)
        try:
            baseline = await measure(c, "no-op", False, args.runs, args.concurrency)
            real = await measure(c, "slack-delay-slack", True, args.runs, args.concurrency)
        finally:
            await c.aclose()
        assert len(chat.received) == 2 * args.runs
    dialect = url.split(":", 1)[0]
    print(f"database {dialect}, {args.runs} runs, concurrency {args.concurrency}")
    print(f"  no-op baseline (3 x delay 0):          {baseline:10.0f} runs/min")
    print(f"  slack.send, delay 0, slack.send (fake): {real:10.0f} runs/min")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=300)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--database-url")
    asyncio.run(main_async(parser.parse_args()))


if __name__ == "__main__":
    main()
