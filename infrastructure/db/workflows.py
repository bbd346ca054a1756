"""Workflow and run repositories (Core, on the unit of work's connection) and row mapping."""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from sqlalchemy import delete, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection

from app.workflows.ports import WorkflowView
from domain.workflows.runs import RunStatus, StepResult, WorkflowRun
from infrastructure.db.tables import schedule_ticks, workflow_runs, workflows

WORKFLOW_COLUMNS = [
    workflows.c.id,
    workflows.c.name,
    workflows.c.description,
    workflows.c.enabled,
    workflows.c.definition,
    workflows.c.created_at,
    workflows.c.updated_at,
]


def workflow_view(row: Any) -> WorkflowView:
    return WorkflowView(**dict(row._mapping))


def run_of(row: Any) -> WorkflowRun:
    return WorkflowRun(
        id=row.id,
        workflow_id=row.workflow_id,
        trigger_type=row.trigger_type,
        trigger_key=row.trigger_key,
        status=RunStatus(row.status),
        context=dict(row.context or {}),
        steps=[StepResult.from_json(s) for s in row.steps or []],
        started_at=row.started_at,
        finished_at=row.finished_at,
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


def _run_values(run: WorkflowRun) -> dict[str, Any]:
    return {
        "status": run.status.value,
        "steps": [s.to_json() for s in run.steps],
        "started_at": run.started_at,
        "finished_at": run.finished_at,
    }


class SqlWorkflows:
    """Implements `app.workflows.ports.Workflows` on one transaction's connection."""

    def __init__(self, conn: AsyncConnection) -> None:
        self._conn = conn

    async def get(self, id: UUID) -> WorkflowView | None:
        row = (
            await self._conn.execute(select(*WORKFLOW_COLUMNS).where(workflows.c.id == id))
        ).first()
        return workflow_view(row) if row else None

    async def add(self, workflow: WorkflowView) -> None:
        await self._conn.execute(insert(workflows).values(**workflow.__dict__))

    async def update(self, workflow: WorkflowView) -> None:
        values = {k: v for k, v in workflow.__dict__.items() if k not in ("id", "created_at")}
        await self._conn.execute(
            update(workflows).where(workflows.c.id == workflow.id).values(values)
        )

    async def delete(self, id: UUID) -> bool:
        # Runs go with their workflow: explicit, since SQLite enforces ON DELETE CASCADE only
        # with foreign keys switched on.
        await self._conn.execute(delete(workflow_runs).where(workflow_runs.c.workflow_id == id))
        return (
            await self._conn.execute(delete(workflows).where(workflows.c.id == id))
        ).rowcount == 1

    async def webhook_keys(self) -> dict[str, UUID]:
        # Workflows number in the tens: reading the documents beats a dialect-specific JSON query.
        rows = await self._conn.execute(select(workflows.c.id, workflows.c.definition))
        owners: dict[str, UUID] = {}
        for id, definition in rows:
            for trigger in (definition or {}).get("triggers", []):
                config = trigger.get("config") if isinstance(trigger, Mapping) else None
                if trigger.get("type") == "webhook" and isinstance(config, Mapping):
                    owners.setdefault(str(config.get("key")), id)
        return owners


class SqlWorkflowRuns:
    """Implements `app.workflows.ports.WorkflowRuns` on one transaction's connection."""

    def __init__(self, conn: AsyncConnection) -> None:
        self._conn = conn

    async def add(self, run: WorkflowRun) -> None:
        await self._conn.execute(
            insert(workflow_runs).values(
                id=run.id,
                workflow_id=run.workflow_id,
                trigger_type=run.trigger_type,
                trigger_key=run.trigger_key,
                context=run.context,
                created_at=run.created_at or datetime.now(UTC),
                updated_at=run.created_at or datetime.now(UTC),
                **_run_values(run),
            )
        )

    async def started_for_order(self, order_id: UUID, workflow_ids: Sequence[UUID]) -> set[UUID]:
        # No column holds the order, its id is in the context: this reads the runs of the given
        # workflows (their index). Only a repair asks, rarely; not worth a column's migration.
        if not workflow_ids:
            return set()
        rows = await self._conn.execute(
            select(workflow_runs.c.workflow_id)
            .where(
                workflow_runs.c.workflow_id.in_(workflow_ids),
                workflow_runs.c.context[("order", "id")].as_string() == str(order_id),
            )
            .distinct()
        )
        return set(rows.scalars())

    async def get(self, id: UUID, *, lock: bool = False) -> WorkflowRun | None:
        stmt = select(workflow_runs).where(workflow_runs.c.id == id)
        if lock and self._conn.dialect.name == "postgresql":
            stmt = stmt.with_for_update()  # SQLite: BEGIN IMMEDIATE already serialises writers
        row = (await self._conn.execute(stmt)).first()
        return run_of(row) if row else None

    async def save(self, run: WorkflowRun, now: datetime) -> None:
        await self._conn.execute(
            update(workflow_runs)
            .where(workflow_runs.c.id == run.id)
            .values(**_run_values(run), updated_at=now)
        )

    async def claim_tick(self, name: str, at: datetime, claimer: str) -> bool:
        dialect = postgresql if self._conn.dialect.name == "postgresql" else sqlite
        stmt = (
            dialect.insert(schedule_ticks)
            .values(
                id=uuid.uuid4(),
                job_name=name[:128],
                tick_at=at,
                claimed_by=claimer[:128],
                claimed_at=datetime.now(UTC),
            )
            .on_conflict_do_nothing(
                index_elements=[schedule_ticks.c.job_name, schedule_ticks.c.tick_at]
            )
        )
        return (await self._conn.execute(stmt)).rowcount == 1
