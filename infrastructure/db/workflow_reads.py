"""The query side of workflows and runs in SQLAlchemy Core (newest first, keyset pages)."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from sqlalchemy import ColumnElement, Table, and_, func, or_, select
from sqlalchemy.ext.asyncio import AsyncEngine

from app.auth.ports import After, Page
from app.workflows.ports import RunFilter, WorkflowView
from domain.workflows.runs import WorkflowRun
from infrastructure.db.tables import workflow_runs, workflows
from infrastructure.db.workflows import WORKFLOW_COLUMNS, run_of, workflow_view


def _after(table: Table, after: After) -> ColumnElement[bool]:
    created_at, id = after
    return or_(
        table.c.created_at < created_at,
        and_(table.c.created_at == created_at, table.c.id < id),
    )


def _workflow_where(enabled: bool | None) -> list[ColumnElement[bool]]:
    return [] if enabled is None else [workflows.c.enabled.is_(enabled)]


def _run_where(f: RunFilter) -> list[ColumnElement[bool]]:
    c = workflow_runs.c
    where: list[ColumnElement[bool]] = []
    if f.workflow_id is not None:
        where.append(c.workflow_id == f.workflow_id)
    if f.status is not None:
        where.append(c.status == f.status.value)
    if f.created_from is not None:
        where.append(c.created_at >= f.created_from)
    if f.created_to is not None:
        where.append(c.created_at < f.created_to)
    return where


class SqlWorkflowReads:
    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    async def _rows(self, stmt: Any) -> list[Any]:
        async with self._engine.connect() as conn:
            return list((await conn.execute(stmt)).all())

    async def _scalar(self, stmt: Any) -> int:
        async with self._engine.connect() as conn:
            return int((await conn.execute(stmt)).scalar_one())

    async def workflow(self, id: UUID) -> WorkflowView | None:
        rows = await self._rows(select(*WORKFLOW_COLUMNS).where(workflows.c.id == id))
        return workflow_view(rows[0]) if rows else None

    async def workflow_page(
        self, first: int, after: After | None, enabled: bool | None
    ) -> Page[WorkflowView]:
        stmt = select(*WORKFLOW_COLUMNS).where(*_workflow_where(enabled))
        if after is not None:
            stmt = stmt.where(_after(workflows, after))
        stmt = stmt.order_by(workflows.c.created_at.desc(), workflows.c.id.desc()).limit(first + 1)
        rows = await self._rows(stmt)
        return Page([workflow_view(r) for r in rows[:first]], len(rows) > first)

    async def count_workflows(self, enabled: bool | None) -> int:
        return await self._scalar(
            select(func.count()).select_from(workflows).where(*_workflow_where(enabled))
        )

    async def enabled_workflows(self) -> list[WorkflowView]:
        stmt = select(*WORKFLOW_COLUMNS).where(workflows.c.enabled.is_(True))
        return [workflow_view(r) for r in await self._rows(stmt.order_by(workflows.c.name))]

    async def run(self, id: UUID) -> WorkflowRun | None:
        rows = await self._rows(select(workflow_runs).where(workflow_runs.c.id == id))
        return run_of(rows[0]) if rows else None

    async def run_page(self, f: RunFilter, first: int, after: After | None) -> Page[WorkflowRun]:
        stmt = select(workflow_runs).where(*_run_where(f))
        if after is not None:
            stmt = stmt.where(_after(workflow_runs, after))
        order = (workflow_runs.c.created_at.desc(), workflow_runs.c.id.desc())
        rows = await self._rows(stmt.order_by(*order).limit(first + 1))
        return Page([run_of(r) for r in rows[:first]], len(rows) > first)

    async def count_runs(self, f: RunFilter) -> int:
        return await self._scalar(
            select(func.count()).select_from(workflow_runs).where(*_run_where(f))
        )
