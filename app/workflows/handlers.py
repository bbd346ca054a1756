"""Workflow definition handlers: create, update, enable/disable, delete, dry-run validation.

Each change evicts the cached enabled workflows, so triggers (cron ticks, webhooks, orders)
follow it at once on every process sharing the cache.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any
from uuid import UUID

from app.cache import cache_evict
from app.errors import Conflict, NotFound
from app.ports import Cache, UnitOfWork, UnitOfWorkFactory
from app.workflows.commands import (
    CreateWorkflow,
    DeleteWorkflow,
    SetWorkflowEnabled,
    UpdateWorkflow,
)
from app.workflows.ports import WorkflowView
from app.workflows.queries import ENABLED
from domain.workflows.model import WorkflowChanged
from domain.workflows.rules import Issue, check, parse


def validate_workflow(definition: Any) -> list[Issue]:
    """The dry check of `validateWorkflow`: every issue, nothing stored."""
    return check(definition)


async def _check_keys(unit: UnitOfWork, raw: Any, own: UUID) -> None:
    """A webhook key routes to one workflow: refuse a key another workflow holds."""
    owners = await unit.workflows.webhook_keys()
    for i, trigger in enumerate(raw["triggers"]):
        key = (trigger.get("config") or {}).get("key") if trigger["type"] == "webhook" else None
        owner = owners.get(key) if key else None
        if owner is not None and owner != own:
            raise Conflict(
                f"webhook key {key!r} is used by workflow {owner}",
                field=f"$.triggers[{i}].config.key",
            )


def _changed(view: WorkflowView, change: str, at: datetime, actor: str | None) -> WorkflowChanged:
    return WorkflowChanged(
        aggregate_id=view.id,
        occurred_at=at,
        actor=actor,
        change=change,
        name=view.name,
        enabled=view.enabled,
    )


@cache_evict(ENABLED)
async def create_workflow(
    cmd: CreateWorkflow,
    *,
    uow: UnitOfWorkFactory,
    cache: Cache | None,
    now: Callable[[], datetime],
    new_id: Callable[[], UUID],
) -> WorkflowView:
    definition = parse(cmd.definition)  # InvalidDefinition lists every issue
    at = now()
    view = WorkflowView(
        id=new_id(),
        name=definition.name,
        description=definition.description,
        enabled=definition.enabled,
        definition=dict(cmd.definition),
        created_at=at,
        updated_at=at,
    )
    async with uow(actor=cmd.actor, correlation_id=cmd.correlation_id) as unit:
        await _check_keys(unit, cmd.definition, view.id)
        await unit.workflows.add(view)
        unit.record([_changed(view, "created", at, cmd.actor)])
        await unit.commit()
    return view


@cache_evict(ENABLED)
async def update_workflow(
    cmd: UpdateWorkflow, *, uow: UnitOfWorkFactory, cache: Cache | None, now: Callable[[], datetime]
) -> WorkflowView:
    definition = parse(cmd.definition)
    at = now()
    async with uow(actor=cmd.actor, correlation_id=cmd.correlation_id) as unit:
        current = await unit.workflows.get(cmd.id)
        if current is None:
            raise NotFound(f"no workflow {cmd.id}", field="id")
        await _check_keys(unit, cmd.definition, cmd.id)
        view = WorkflowView(
            id=current.id,
            name=definition.name,
            description=definition.description,
            enabled=definition.enabled,
            definition=dict(cmd.definition),
            created_at=current.created_at,
            updated_at=at,
        )
        await unit.workflows.update(view)
        unit.record([_changed(view, "updated", at, cmd.actor)])
        await unit.commit()
    return view


@cache_evict(ENABLED)
async def set_workflow_enabled(
    cmd: SetWorkflowEnabled,
    *,
    uow: UnitOfWorkFactory,
    cache: Cache | None,
    now: Callable[[], datetime],
) -> WorkflowView:
    at = now()
    async with uow(actor=cmd.actor, correlation_id=cmd.correlation_id) as unit:
        current = await unit.workflows.get(cmd.id)
        if current is None:
            raise NotFound(f"no workflow {cmd.id}", field="id")
        # The document says `enabled` too: keep both in step so an export re-imports as is.
        view = WorkflowView(
            **{
                **current.__dict__,
                "enabled": cmd.enabled,
                "definition": {**current.definition, "enabled": cmd.enabled},
                "updated_at": at,
            }
        )
        await unit.workflows.update(view)
        unit.record([_changed(view, "enabled" if cmd.enabled else "disabled", at, cmd.actor)])
        await unit.commit()
    return view


@cache_evict(ENABLED)
async def delete_workflow(
    cmd: DeleteWorkflow, *, uow: UnitOfWorkFactory, cache: Cache | None, now: Callable[[], datetime]
) -> bool:
    """Delete the workflow and its runs; False when there was none."""
    async with uow(actor=cmd.actor, correlation_id=cmd.correlation_id) as unit:
        current = await unit.workflows.get(cmd.id)
        if current is None:
            return False
        await unit.workflows.delete(cmd.id)
        unit.record([_changed(current, "deleted", now(), cmd.actor)])
        await unit.commit()
    return True
