"""Shared helpers of the workflow integration tests: settings, a container, rows."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any
from uuid import UUID

from sqlalchemy import select

from app.workflows.commands import CreateWorkflow, StartRun
from app.workflows.ports import WorkflowView
from domain.workflows.runs import WorkflowRun
from infrastructure.db.tables import failed_jobs, outbox, sandbox_messages, workflow_runs
from tests.scrape import Samples, parse
from visapi.bootstrap import Container
from visapi.settings import Settings


def workflow_settings(settings: Settings, tmp_path: Path, **changes: Any) -> Settings:
    values: dict[str, Any] = {
        "pdf_dir": str(tmp_path / "pdfs"),
        "workflow_step_backoff_s": 0.01,
        "job_min_backoff_ms": 10,
        "job_max_backoff_ms": 40,
        **changes,
    }
    return dataclasses.replace(settings, **values)


def slack(step_id: str, message: str, **extra: Any) -> dict[str, Any]:
    return {
        "id": step_id,
        "type": "slack.send",
        "config": {"channel": "#ops", "message": message},
        **extra,
    }


def definition(*steps: dict[str, Any], triggers: list[Any] | None = None) -> dict[str, Any]:
    return {
        "name": "test workflow",
        "triggers": triggers or [{"type": "manual"}],
        "steps": list(steps),
    }


async def create(c: Container, doc: dict[str, Any]) -> WorkflowView:
    view = await c.bus.handle(CreateWorkflow(doc))
    assert isinstance(view, WorkflowView)
    return view


async def start(c: Container, workflow: WorkflowView, context: dict[str, Any]) -> WorkflowRun:
    run = await c.bus.handle(StartRun(workflow.id, "manual", context))
    assert isinstance(run, WorkflowRun)
    return run


async def stored_run(c: Container, run_id: UUID) -> WorkflowRun:
    run = await c.workflows.run(run_id)
    assert run is not None
    return run


async def rows(c: Container, table: Any) -> list[Any]:
    async with c.engine.connect() as conn:
        return list((await conn.execute(select(table))).all())


__all__ = [
    "failed_jobs",
    "outbox",
    "rows",
    "sandbox_messages",
    "workflow_runs",
]


def run_ends(c: Container) -> dict[str, float]:
    """The container's count of runs per final status (`visapi_workflow_runs_total`)."""
    samples: Samples = parse(c.metrics.render()[0].decode())
    return {
        status: samples.get_value("visapi_workflow_runs_total", status=status)
        for status in ("succeeded", "failed", "canceled")
    }
