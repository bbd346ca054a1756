"""Workflows in GraphQL: definitions (list, one, validate, create, update, enable, delete)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import strawberry
from strawberry import UNSET
from strawberry.scalars import JSON
from strawberry.types import Info

from app.errors import Conflict
from app.workflows.commands import (
    CreateWorkflow,
    DeleteWorkflow,
    SetWorkflowEnabled,
    UpdateWorkflow,
)
from app.workflows.handlers import validate_workflow
from app.workflows.ports import WorkflowView
from app.workflows.queries import ENABLED
from domain.auth.permissions import Permission
from domain.workflows.rules import InvalidDefinition, Issue
from graph.arguments import given, parse_id
from graph.cache_control import cache_control
from graph.context import Context
from graph.pagination import PageInfo, after_of, cursor, page_info, page_size
from graph.permissions import requires


@strawberry.type(description="A workflow: triggers start runs of its steps.")
class Workflow:
    id: strawberry.ID
    name: str
    description: str | None
    enabled: bool
    definition: JSON = strawberry.field(description="The definition document as saved.")
    created_at: datetime
    updated_at: datetime

    @classmethod
    def from_view(cls, v: WorkflowView) -> Workflow:
        return cls(
            id=strawberry.ID(str(v.id)),
            name=v.name,
            description=v.description,
            enabled=v.enabled,
            definition=JSON(v.definition),
            created_at=v.created_at,
            updated_at=v.updated_at,
        )


@strawberry.type(description="One problem of a definition; `field` is its JSONPath.")
class WorkflowError:
    message: str
    field: str


@strawberry.type(description="The definition was refused; `errors` lists every problem.")
class InvalidWorkflow:
    message: str
    field: str | None
    errors: list[WorkflowError]

    @classmethod
    def of(cls, issues: list[Issue]) -> InvalidWorkflow:
        errors = [WorkflowError(message=i.message, field=i.path) for i in issues]
        first = issues[0]
        return cls(message=f"{first.path}: {first.message}", field=first.path, errors=errors)


@strawberry.type(description="The result of a dry check: nothing is stored.")
class WorkflowValidation:
    valid: bool
    errors: list[WorkflowError]


CreateWorkflowResult = Annotated[
    Workflow | InvalidWorkflow, strawberry.union("CreateWorkflowResult")
]
UpdateWorkflowResult = Annotated[
    Workflow | InvalidWorkflow, strawberry.union("UpdateWorkflowResult")
]


@strawberry.type
class WorkflowEdge:
    cursor: str
    node: Workflow


async def _total_count(
    root: strawberry.Parent[WorkflowConnection], info: Info[Context, None]
) -> int:
    return await info.context.workflows.count_workflows(root.enabled)


@strawberry.type
class WorkflowConnection:
    edges: list[WorkflowEdge]
    page_info: PageInfo
    enabled: strawberry.Private[bool | None]

    total_count: int = strawberry.field(
        resolver=_total_count, directives=cache_control(60, ENABLED)
    )


async def workflows(
    info: Info[Context, None],
    enabled: bool | None = UNSET,
    first: int | None = UNSET,
    after: str | None = UNSET,
) -> WorkflowConnection:
    size = page_size(first, info.context.max_page_size)
    only = enabled if given(enabled) else None
    page = await info.context.workflows.workflow_page(size, after_of(after), only)
    edges = [
        WorkflowEdge(cursor=cursor(v.created_at, v.id), node=Workflow.from_view(v))
        for v in page.items
    ]
    return WorkflowConnection(edges=edges, page_info=page_info(edges, page.has_next), enabled=only)


async def workflow(info: Info[Context, None], id: strawberry.ID) -> Workflow | None:
    view = await info.context.workflows.workflow(parse_id(str(id), "id"))
    return Workflow.from_view(view) if view else None


def validate(definition: JSON) -> WorkflowValidation:
    issues = validate_workflow(definition)
    errors = [WorkflowError(message=i.message, field=i.path) for i in issues]
    return WorkflowValidation(valid=not issues, errors=errors)


def _refused(exc: Conflict) -> InvalidWorkflow:
    return InvalidWorkflow.of([Issue(exc.field or "$", exc.message)])


async def create_workflow(info: Info[Context, None], definition: JSON) -> CreateWorkflowResult:
    ctx = info.context
    try:
        view = await ctx.bus.handle(
            CreateWorkflow(definition, actor=ctx.actor, correlation_id=ctx.correlation_id)
        )
    except InvalidDefinition as exc:
        return InvalidWorkflow.of(exc.issues)
    except Conflict as exc:  # a webhook key another workflow holds
        return _refused(exc)
    return Workflow.from_view(view)


async def update_workflow(
    info: Info[Context, None], id: strawberry.ID, definition: JSON
) -> UpdateWorkflowResult:
    ctx = info.context
    command = UpdateWorkflow(
        parse_id(str(id), "id"), definition, actor=ctx.actor, correlation_id=ctx.correlation_id
    )
    try:
        view = await ctx.bus.handle(command)
    except InvalidDefinition as exc:
        return InvalidWorkflow.of(exc.issues)
    except Conflict as exc:
        return _refused(exc)
    return Workflow.from_view(view)


async def set_workflow_enabled(
    info: Info[Context, None], id: strawberry.ID, enabled: bool
) -> Workflow:
    ctx = info.context
    command = SetWorkflowEnabled(
        parse_id(str(id), "id"), enabled, actor=ctx.actor, correlation_id=ctx.correlation_id
    )
    return Workflow.from_view(await ctx.bus.handle(command))


async def delete_workflow(info: Info[Context, None], id: strawberry.ID) -> bool:
    ctx = info.context
    command = DeleteWorkflow(
        parse_id(str(id), "id"), actor=ctx.actor, correlation_id=ctx.correlation_id
    )
    deleted: bool = await ctx.bus.handle(command)
    return deleted


@strawberry.type
class WorkflowQuery:
    # Response cache: every definition change (create, update, enable, delete) evicts
    # `workflows-enabled` (app.workflows.handlers).
    workflows: WorkflowConnection = strawberry.field(
        resolver=workflows,
        description="Workflows, newest first; `enabled` filters.",
        extensions=requires(Permission.WORKFLOWS_READ),
        directives=cache_control(60, ENABLED),
    )
    workflow: Workflow | None = strawberry.field(
        resolver=workflow,
        extensions=requires(Permission.WORKFLOWS_READ),
        directives=cache_control(60, ENABLED),
    )
    validate_workflow: WorkflowValidation = strawberry.field(
        resolver=validate,
        description="Check a definition (schema and rules) without storing it.",
        extensions=requires(Permission.WORKFLOWS_READ),
    )


@strawberry.type
class WorkflowMutation:
    create_workflow: CreateWorkflowResult = strawberry.mutation(
        resolver=create_workflow,
        description="Store a definition; InvalidWorkflow lists every problem with its JSONPath.",
        extensions=requires(Permission.WORKFLOWS_WRITE),
    )
    update_workflow: UpdateWorkflowResult = strawberry.mutation(
        resolver=update_workflow,
        description="Replace a definition; triggers follow the change at once.",
        extensions=requires(Permission.WORKFLOWS_WRITE),
    )
    set_workflow_enabled: Workflow = strawberry.mutation(
        resolver=set_workflow_enabled, extensions=requires(Permission.WORKFLOWS_WRITE)
    )
    delete_workflow: bool = strawberry.mutation(
        resolver=delete_workflow,
        description="Delete a workflow and its runs; false when there was none.",
        extensions=requires(Permission.WORKFLOWS_WRITE),
    )
