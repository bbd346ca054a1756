"""Workflow runs in GraphQL: runWorkflow, workflowRuns, workflowRun, cancelWorkflowRun."""

from __future__ import annotations

from datetime import datetime
from enum import Enum

import strawberry
from strawberry import UNSET
from strawberry.scalars import JSON
from strawberry.types import Info

from app.workflows.commands import CancelRun, StartRun
from app.workflows.ports import RunFilter
from domain.auth.permissions import Permission
from domain.workflows.runs import RunStatus, StepResult, WorkflowRun
from graph.arguments import given, parse_id
from graph.context import Context
from graph.errors import invalid_input
from graph.pagination import PageInfo, after_of, cursor, page_info, page_size
from graph.permissions import requires
from graph.scalars import as_utc

MAX_CONTEXT_KEYS = 100


@strawberry.enum
class WorkflowRunStatus(Enum):
    QUEUED = "queued"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELED = "canceled"


@strawberry.enum
class WorkflowStepStatus(Enum):
    PENDING = "pending"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    SKIPPED = "skipped"


@strawberry.type(description="What one step of a run did.")
class WorkflowStepResult:
    step_id: str
    type: str
    status: WorkflowStepStatus
    attempts: int
    # Rendered messages and vendor answers.
    output: JSON | None = strawberry.field(extensions=requires(Permission.ORDERS_READ))
    error: str | None = strawberry.field(extensions=requires(Permission.ORDERS_READ))
    started_at: datetime | None
    finished_at: datetime | None
    duration_ms: int | None

    @classmethod
    def of(cls, r: StepResult) -> WorkflowStepResult:
        return cls(
            step_id=r.id,
            type=r.type,
            status=WorkflowStepStatus(r.status.value),
            attempts=r.attempts,
            output=JSON(r.output) if r.output is not None else None,
            error=r.error,
            started_at=r.started_at,
            finished_at=r.finished_at,
            duration_ms=r.duration_ms,
        )


@strawberry.type(name="WorkflowRun", description="One run of a workflow, with a result per step.")
class WorkflowRunType:
    id: strawberry.ID
    workflow_id: strawberry.ID
    trigger_type: str = strawberry.field(description="webhook, cron or manual.")
    trigger_key: str | None = strawberry.field(description="The webhook key or cron schedule.")
    status: WorkflowRunStatus
    # The order that triggered the run.
    context: JSON | None = strawberry.field(extensions=requires(Permission.ORDERS_READ))
    steps: list[WorkflowStepResult]
    created_at: datetime | None
    started_at: datetime | None
    finished_at: datetime | None

    @classmethod
    def of(cls, run: WorkflowRun) -> WorkflowRunType:
        return cls(
            id=strawberry.ID(str(run.id)),
            workflow_id=strawberry.ID(str(run.workflow_id)),
            trigger_type=run.trigger_type,
            trigger_key=run.trigger_key,
            status=WorkflowRunStatus(run.status.value),
            context=JSON(run.context),
            steps=[WorkflowStepResult.of(s) for s in run.steps],
            created_at=run.created_at,
            started_at=run.started_at,
            finished_at=run.finished_at,
        )


@strawberry.input
class WorkflowRunFilter:
    workflow_id: strawberry.ID | None = UNSET
    status: WorkflowRunStatus | None = UNSET
    from_: datetime | None = strawberry.field(default=UNSET, name="from")
    to: datetime | None = UNSET


@strawberry.type
class WorkflowRunEdge:
    cursor: str
    node: WorkflowRunType


@strawberry.type
class WorkflowRunConnection:
    edges: list[WorkflowRunEdge]
    page_info: PageInfo
    filter: strawberry.Private[RunFilter]

    @strawberry.field
    async def total_count(self, info: Info[Context, None]) -> int:
        return await info.context.workflows.count_runs(self.filter)


def to_filter(f: WorkflowRunFilter | None) -> RunFilter:
    if f is None or not given(f):
        return RunFilter()
    return RunFilter(
        workflow_id=parse_id(str(f.workflow_id), "filter.workflowId")
        if given(f.workflow_id)
        else None,
        status=RunStatus(f.status.value) if f.status is not None and given(f.status) else None,
        created_from=as_utc(f.from_) if f.from_ is not None and given(f.from_) else None,
        created_to=as_utc(f.to) if f.to is not None and given(f.to) else None,
    )


async def workflow_runs(
    info: Info[Context, None],
    filter: WorkflowRunFilter | None = UNSET,
    first: int | None = UNSET,
    after: str | None = UNSET,
) -> WorkflowRunConnection:
    size = page_size(first, info.context.max_page_size)
    f = to_filter(filter)
    page = await info.context.workflows.run_page(f, size, after_of(after))
    edges = [
        WorkflowRunEdge(cursor=cursor(r.created_at, r.id), node=WorkflowRunType.of(r))
        for r in page.items
        if r.created_at is not None
    ]
    return WorkflowRunConnection(edges=edges, page_info=page_info(edges, page.has_next), filter=f)


async def workflow_run(info: Info[Context, None], id: strawberry.ID) -> WorkflowRunType | None:
    run = await info.context.workflows.run(parse_id(str(id), "id"))
    return WorkflowRunType.of(run) if run else None


async def run_workflow(
    info: Info[Context, None], id: strawberry.ID, context: JSON | None = UNSET
) -> WorkflowRunType:
    """Queue a manual run; `context` fills the steps' placeholders."""
    raw: object = context if given(context) else {}
    if not isinstance(raw, dict):
        raise invalid_input("context must be a JSON object", "context")
    if len(raw) > MAX_CONTEXT_KEYS:
        raise invalid_input(f"context has more than {MAX_CONTEXT_KEYS} keys", "context")
    ctx = info.context
    command = StartRun(
        workflow_id=parse_id(str(id), "id"),
        trigger_type="manual",
        context=raw,
        actor=ctx.actor,
        correlation_id=ctx.correlation_id,
    )
    return WorkflowRunType.of(await ctx.bus.handle(command))


async def cancel_workflow_run(info: Info[Context, None], id: strawberry.ID) -> WorkflowRunType:
    ctx = info.context
    command = CancelRun(parse_id(str(id), "id"), actor=ctx.actor, correlation_id=ctx.correlation_id)
    return WorkflowRunType.of(await ctx.bus.handle(command))


@strawberry.type
class WorkflowRunQuery:
    workflow_runs: WorkflowRunConnection = strawberry.field(
        resolver=workflow_runs,
        description="Runs, newest first; filter by workflow, status and creation time [from, to).",
        extensions=requires(Permission.WORKFLOWS_READ),
    )
    workflow_run: WorkflowRunType | None = strawberry.field(
        resolver=workflow_run, extensions=requires(Permission.WORKFLOWS_READ)
    )


@strawberry.type
class WorkflowRunMutation:
    run_workflow: WorkflowRunType = strawberry.mutation(
        resolver=run_workflow,
        description="Queue a manual run of an enabled workflow with a manual trigger.",
        extensions=requires(Permission.WORKFLOWS_RUN),
    )
    cancel_workflow_run: WorkflowRunType = strawberry.mutation(
        resolver=cancel_workflow_run,
        description="Cancel a queued or running run; it stops before its next step.",
        extensions=requires(Permission.WORKFLOWS_RUN),
    )
