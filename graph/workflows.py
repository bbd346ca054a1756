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
from graph.pagination import AfterCursor, First, PageInfo, after_of, cursor, page_info, page_size
from graph.permissions import requires


@strawberry.type(description="A workflow: triggers start runs of its steps.")
class Workflow:
    id: strawberry.ID = strawberry.field(description="The workflow's id (a uuid).")
    name: str = strawberry.field(description="Its name, from the definition.")
    description: str | None = strawberry.field(
        description="What it is for, from the definition; null when it has none."
    )
    enabled: bool = strawberry.field(
        description="Its triggers start runs; a disabled workflow runs nothing, not even manually."
    )
    definition: JSON = strawberry.field(description="The definition document as saved.")
    created_at: datetime = strawberry.field(description="When it was stored (UTC).")
    updated_at: datetime = strawberry.field(
        description="When its definition or `enabled` last changed (UTC)."
    )

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
    message: str = strawberry.field(description="What is wrong, in words.")
    field: str = strawberry.field(
        description="Where, as a JSONPath into the definition: `$.steps[1].config.channel`."
    )


@strawberry.type(description="The definition was refused; `errors` lists every problem.")
class InvalidWorkflow:
    message: str = strawberry.field(description="The first problem, with its JSONPath.")
    field: str | None = strawberry.field(description="The first problem's JSONPath.")
    errors: list[WorkflowError] = strawberry.field(description="Every problem, in document order.")

    @classmethod
    def of(cls, issues: list[Issue]) -> InvalidWorkflow:
        errors = [WorkflowError(message=i.message, field=i.path) for i in issues]
        first = issues[0]
        return cls(message=f"{first.path}: {first.message}", field=first.path, errors=errors)


@strawberry.type(description="The result of a dry check: nothing is stored.")
class WorkflowValidation:
    valid: bool = strawberry.field(description="The definition would be stored as it is.")
    errors: list[WorkflowError] = strawberry.field(
        description="Every problem, in document order; empty when valid."
    )


CreateWorkflowResult = Annotated[
    Workflow | InvalidWorkflow,
    strawberry.union(
        "CreateWorkflowResult",
        description="The stored Workflow, or InvalidWorkflow listing why nothing was stored.",
    ),
]
UpdateWorkflowResult = Annotated[
    Workflow | InvalidWorkflow,
    strawberry.union(
        "UpdateWorkflowResult",
        description="The updated Workflow, or InvalidWorkflow listing why nothing changed.",
    ),
]
_ID = "The workflow's id (Workflow.id)."
_DEFINITION = (
    "The definition document: name, description, enabled, variables, triggers (webhook, cron,"
    " manual) and steps (slack.send, email.send, whatsapp.send, pdf.generate, delay)."
)


@strawberry.type(description="One workflow of a page, with its position.")
class WorkflowEdge:
    cursor: str = strawberry.field(description="Opaque position: pass it as `after`.")
    node: Workflow = strawberry.field(description="The workflow.")


@strawberry.type(description="A page of workflows, newest first.")
class WorkflowConnection:
    edges: list[WorkflowEdge] = strawberry.field(description="This page's workflows, newest first.")
    page_info: PageInfo = strawberry.field(description="Where this page sits; how to go on.")
    enabled: strawberry.Private[bool | None]

    async def _total_count(self, info: Info[Context, None]) -> int:
        return await info.context.workflows.count_workflows(self.enabled)

    total_count: int = strawberry.field(
        resolver=_total_count,
        description="Workflows matching `enabled` (all when omitted), all pages.",
        directives=cache_control(60, ENABLED),
    )


async def workflows(
    info: Info[Context, None],
    enabled: Annotated[
        bool | None,
        strawberry.argument(description="true: enabled ones only; false: disabled ones only."),
    ] = UNSET,
    first: First = UNSET,
    after: AfterCursor = UNSET,
) -> WorkflowConnection:
    size = page_size(first, info.context.max_page_size)
    only = enabled if given(enabled) else None
    page = await info.context.workflows.workflow_page(size, after_of(after), only)
    edges = [
        WorkflowEdge(cursor=cursor(v.created_at, v.id), node=Workflow.from_view(v))
        for v in page.items
    ]
    return WorkflowConnection(
        edges=edges, page_info=page_info(edges, page.has_next, after), enabled=only
    )


async def workflow(
    info: Info[Context, None], id: Annotated[strawberry.ID, strawberry.argument(description=_ID)]
) -> Workflow | None:
    view = await info.context.workflows.workflow(parse_id(str(id), "id"))
    return Workflow.from_view(view) if view else None


def validate(
    definition: Annotated[JSON, strawberry.argument(description=_DEFINITION)],
) -> WorkflowValidation:
    issues = validate_workflow(definition)
    errors = [WorkflowError(message=i.message, field=i.path) for i in issues]
    return WorkflowValidation(valid=not issues, errors=errors)


def _refused(exc: Conflict) -> InvalidWorkflow:
    return InvalidWorkflow.of([Issue(exc.field or "$", exc.message)])


async def create_workflow(
    info: Info[Context, None],
    definition: Annotated[JSON, strawberry.argument(description=_DEFINITION)],
) -> CreateWorkflowResult:
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
    info: Info[Context, None],
    id: Annotated[strawberry.ID, strawberry.argument(description=_ID)],
    definition: Annotated[
        JSON, strawberry.argument(description=f"The whole new definition. {_DEFINITION}")
    ],
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
    info: Info[Context, None],
    id: Annotated[strawberry.ID, strawberry.argument(description=_ID)],
    enabled: Annotated[
        bool, strawberry.argument(description="true: its triggers start runs; false: none do.")
    ],
) -> Workflow:
    ctx = info.context
    command = SetWorkflowEnabled(
        parse_id(str(id), "id"), enabled, actor=ctx.actor, correlation_id=ctx.correlation_id
    )
    return Workflow.from_view(await ctx.bus.handle(command))


async def delete_workflow(
    info: Info[Context, None], id: Annotated[strawberry.ID, strawberry.argument(description=_ID)]
) -> bool:
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
    workflows: WorkflowConnection | None = strawberry.field(
        resolver=workflows,
        description="Workflows, newest first; `enabled` filters.",
        extensions=requires(Permission.WORKFLOWS_READ),
        directives=cache_control(60, ENABLED),
    )
    workflow: Workflow | None = strawberry.field(
        resolver=workflow,
        description="One workflow; null when there is none.",
        extensions=requires(Permission.WORKFLOWS_READ),
        directives=cache_control(60, ENABLED),
    )
    validate_workflow: WorkflowValidation | None = strawberry.field(
        resolver=validate,
        description="Check a definition (schema and rules) without storing it.",
        extensions=requires(Permission.WORKFLOWS_READ),
    )


@strawberry.type
class WorkflowMutation:
    create_workflow: CreateWorkflowResult | None = strawberry.mutation(
        resolver=create_workflow,
        description="Store a definition; InvalidWorkflow lists every problem with its JSONPath.",
        extensions=requires(Permission.WORKFLOWS_WRITE),
    )
    update_workflow: UpdateWorkflowResult | None = strawberry.mutation(
        resolver=update_workflow,
        description="Replace a definition; triggers follow the change at once.",
        extensions=requires(Permission.WORKFLOWS_WRITE),
    )
    set_workflow_enabled: Workflow | None = strawberry.mutation(
        resolver=set_workflow_enabled,
        description="Switch a workflow's triggers on or off; NOT_FOUND when there is none.",
        extensions=requires(Permission.WORKFLOWS_WRITE),
    )
    delete_workflow: bool | None = strawberry.mutation(
        resolver=delete_workflow,
        description="Delete a workflow and its runs; false when there was none.",
        extensions=requires(Permission.WORKFLOWS_WRITE),
    )
