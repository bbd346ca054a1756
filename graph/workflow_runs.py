"""Workflow runs in GraphQL: runWorkflow, workflowRuns, workflowRun, cancelWorkflowRun."""

from __future__ import annotations

from datetime import datetime
from enum import Enum
from typing import Annotated

import strawberry
from strawberry import UNSET
from strawberry.scalars import JSON
from strawberry.types import Info

from app.workflows.commands import CancelRun, StartRun
from app.workflows.ports import RunFilter
from domain.auth.permissions import Permission
from domain.workflows.runs import RunStatus, StepResult, WorkflowRun
from graph.arguments import given, parse_id, value_of
from graph.context import Context
from graph.errors import invalid_input
from graph.pagination import AfterCursor, First, PageInfo, after_of, cursor, page_info, page_size
from graph.permissions import requires
from graph.scalars import as_utc

MAX_CONTEXT_KEYS = 100
RunId = Annotated[strawberry.ID, strawberry.argument(description="The run's id (WorkflowRun.id).")]


@strawberry.enum(description="Where a run stands: QUEUED, RUNNING, then one of the last three.")
class WorkflowRunStatus(Enum):
    QUEUED = strawberry.enum_value("queued", description="Waiting for a worker.")
    RUNNING = strawberry.enum_value("running", description="A worker is running its steps.")
    SUCCEEDED = strawberry.enum_value("succeeded", description="Every step succeeded.")
    FAILED = strawberry.enum_value(
        "failed", description="A step failed after its retries; the steps after it did not run."
    )
    CANCELED = strawberry.enum_value(
        "canceled", description="Canceled (cancelWorkflowRun); it stopped before its next step."
    )


@strawberry.enum(description="Where one step of a run stands.")
class WorkflowStepStatus(Enum):
    PENDING = strawberry.enum_value(
        "pending", description="Not started: yet, or at all when an earlier step failed."
    )
    RUNNING = strawberry.enum_value("running", description="Running now.")
    SUCCEEDED = strawberry.enum_value("succeeded", description="Done; `output` holds its result.")
    FAILED = strawberry.enum_value("failed", description="Failed after its retries; see `error`.")
    SKIPPED = strawberry.enum_value(
        "skipped", description="Never ran: the run was canceled before it started."
    )


@strawberry.type(description="What one step of a run did.")
class WorkflowStepResult:
    step_id: str = strawberry.field(description="The step's `id` in the definition.")
    type: str = strawberry.field(
        description="`slack.send`, `email.send`, `whatsapp.send`, `pdf.generate` or `delay`."
    )
    status: WorkflowStepStatus = strawberry.field(description="Where the step stands.")
    attempts: int = strawberry.field(description="Times it was tried, retries included.")
    # Rendered messages and vendor answers.
    output: JSON | None = strawberry.field(
        description="What it produced (rendered message, vendor answer); null before it"
        " succeeded, or when refused.",
        extensions=requires(Permission.ORDERS_READ),
    )
    error: str | None = strawberry.field(
        description="Why its last attempt failed; null without a failure, or when refused.",
        extensions=requires(Permission.ORDERS_READ),
    )
    started_at: datetime | None = strawberry.field(
        description="When its first attempt started (UTC); null before."
    )
    finished_at: datetime | None = strawberry.field(
        description="When it ended (UTC); null while pending or running."
    )
    duration_ms: int | None = strawberry.field(
        description="finishedAt minus startedAt, in milliseconds; null until it ended."
    )

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
    id: strawberry.ID = strawberry.field(description="The run's id (a uuid).")
    workflow_id: strawberry.ID = strawberry.field(description="Its workflow (Workflow.id).")
    trigger_type: str = strawberry.field(description="webhook, cron or manual.")
    trigger_key: str | None = strawberry.field(description="The webhook key or cron schedule.")
    status: WorkflowRunStatus = strawberry.field(description="Where the run stands.")
    # The order that triggered the run.
    context: JSON | None = strawberry.field(
        description="What the trigger passed (the order, runWorkflow's `context`), filling the"
        " steps' placeholders; null when refused.",
        extensions=requires(Permission.ORDERS_READ),
    )
    steps: list[WorkflowStepResult] = strawberry.field(
        description="One result per step of the definition, in order."
    )
    created_at: datetime | None = strawberry.field(
        description="When it was queued (UTC); null only before it is stored."
    )
    started_at: datetime | None = strawberry.field(
        description="When a worker started it (UTC); null while queued."
    )
    finished_at: datetime | None = strawberry.field(
        description="When it ended (UTC); null while queued or running."
    )

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


@strawberry.input(description="Conditions on runs; all given conditions must hold (AND).")
class WorkflowRunFilter:
    workflow_id: strawberry.ID | None = strawberry.field(
        default=UNSET, description="Only runs of this workflow."
    )
    status: WorkflowRunStatus | None = strawberry.field(
        default=UNSET, description="Only runs in this status."
    )
    from_: datetime | None = strawberry.field(
        default=UNSET, name="from", description="Created at or after this instant (inclusive)."
    )
    to: datetime | None = strawberry.field(
        default=UNSET, description="Created before this instant (exclusive)."
    )


@strawberry.type(description="One run of a page, with its position.")
class WorkflowRunEdge:
    cursor: str = strawberry.field(description="Opaque position: pass it as `after`.")
    node: WorkflowRunType = strawberry.field(description="The run.")


@strawberry.type(description="A page of runs matching a filter, newest first.")
class WorkflowRunConnection:
    edges: list[WorkflowRunEdge] = strawberry.field(description="This page's runs, newest first.")
    page_info: PageInfo = strawberry.field(description="Where this page sits; how to go on.")
    filter: strawberry.Private[RunFilter]

    async def _total_count(self, info: Info[Context, None]) -> int:
        return await info.context.workflows.count_runs(self.filter)

    total_count: int = strawberry.field(
        resolver=_total_count, description="Runs matching the filter, all pages together."
    )


def to_filter(f: WorkflowRunFilter | None) -> RunFilter:
    if f is None or not given(f):
        return RunFilter()
    return RunFilter(
        workflow_id=parse_id(str(f.workflow_id), "filter.workflowId")
        if given(f.workflow_id)
        else None,
        status=RunStatus(value_of(f.status)) if f.status is not None and given(f.status) else None,
        created_from=as_utc(f.from_) if f.from_ is not None and given(f.from_) else None,
        created_to=as_utc(f.to) if f.to is not None and given(f.to) else None,
    )


async def workflow_runs(
    info: Info[Context, None],
    filter: Annotated[
        WorkflowRunFilter | None,
        strawberry.argument(description="Only runs matching it; all when omitted."),
    ] = UNSET,
    first: First = UNSET,
    after: AfterCursor = UNSET,
) -> WorkflowRunConnection:
    size = page_size(first, info.context.max_page_size)
    f = to_filter(filter)
    page = await info.context.workflows.run_page(f, size, after_of(after))
    edges = [
        WorkflowRunEdge(cursor=cursor(r.created_at, r.id), node=WorkflowRunType.of(r))
        for r in page.items
        if r.created_at is not None
    ]
    return WorkflowRunConnection(
        edges=edges, page_info=page_info(edges, page.has_next, after), filter=f
    )


async def workflow_run(info: Info[Context, None], id: RunId) -> WorkflowRunType | None:
    run = await info.context.workflows.run(parse_id(str(id), "id"))
    return WorkflowRunType.of(run) if run else None


async def run_workflow(
    info: Info[Context, None],
    id: Annotated[strawberry.ID, strawberry.argument(description="The workflow (Workflow.id).")],
    context: Annotated[
        JSON | None,
        strawberry.argument(
            description="An object (at most 100 keys) filling the steps' placeholders"
            " (`{{order.id}}`); `{}` when omitted."
        ),
    ] = UNSET,
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


async def cancel_workflow_run(info: Info[Context, None], id: RunId) -> WorkflowRunType:
    ctx = info.context
    command = CancelRun(parse_id(str(id), "id"), actor=ctx.actor, correlation_id=ctx.correlation_id)
    return WorkflowRunType.of(await ctx.bus.handle(command))


@strawberry.type
class WorkflowRunQuery:
    workflow_runs: WorkflowRunConnection | None = strawberry.field(
        resolver=workflow_runs,
        description="Runs, newest first; filter by workflow, status and creation time [from, to).",
        extensions=requires(Permission.WORKFLOWS_READ),
    )
    workflow_run: WorkflowRunType | None = strawberry.field(
        resolver=workflow_run,
        description="One run with its step results; null when there is none.",
        extensions=requires(Permission.WORKFLOWS_READ),
    )


@strawberry.type
class WorkflowRunMutation:
    run_workflow: WorkflowRunType | None = strawberry.mutation(
        resolver=run_workflow,
        description="Queue a manual run of an enabled workflow with a manual trigger.",
        extensions=requires(Permission.WORKFLOWS_RUN),
    )
    cancel_workflow_run: WorkflowRunType | None = strawberry.mutation(
        resolver=cancel_workflow_run,
        description="Cancel a queued or running run; it stops before its next step.",
        extensions=requires(Permission.WORKFLOWS_RUN),
    )
