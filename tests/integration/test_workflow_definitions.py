"""Workflow definitions through the bus on both dialects: stored, refused with every error,
webhook keys unique across workflows, the enabled list cached and evicted on every change."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import update

from app.errors import Conflict, NotFound
from app.main.bootstrap import Container, bootstrap
from app.main.settings import Settings
from app.workflows.commands import (
    CreateWorkflow,
    DeleteWorkflow,
    SetWorkflowEnabled,
    StartRun,
    UpdateWorkflow,
)
from domain.workflows.rules import InvalidDefinition
from infrastructure.db.tables import events, workflows
from tests.integration.workflow_support import create, rows, workflow_settings
from tests.workflow_docs import valid


@pytest.fixture
async def c(settings: Settings, tmp_path: Path) -> AsyncIterator[Container]:
    container = bootstrap(workflow_settings(settings, tmp_path))
    yield container
    await container.aclose()


async def names(c: Container) -> list[str]:
    return [w.name for w in await c.workflows.queries.enabled()]


async def test_create_stores_the_definition_and_an_audit_event(c: Container) -> None:
    view = await create(c, valid())
    stored = await c.workflows.queries.workflow(view.id)
    assert stored == view
    assert stored is not None
    assert (stored.name, stored.enabled, stored.definition) == ("Order follow-up", True, valid())
    (event,) = await rows(c, events)
    assert (event.type, event.aggregate_id, event.payload["change"]) == (
        "workflow.changed",
        view.id,
        "created",
    )


async def test_an_invalid_definition_is_refused_with_every_issue(c: Container) -> None:
    with pytest.raises(InvalidDefinition) as raised:
        await c.bus.handle(CreateWorkflow(valid(name="", steps=[])))
    assert [i.path for i in raised.value.issues] == ["$.name", "$.steps"]
    assert await rows(c, workflows) == []


async def test_a_webhook_key_belongs_to_one_workflow(c: Container) -> None:
    first = await create(c, valid())
    with pytest.raises(Conflict) as raised:
        await c.bus.handle(CreateWorkflow(valid(name="other")))
    assert raised.value.field == "$.triggers[1].config.key"
    # The owner may keep its own key when it is updated.
    await c.bus.handle(UpdateWorkflow(first.id, valid(description="edited")))


async def test_update_enable_and_delete(c: Container) -> None:
    view = await create(c, valid())
    updated = await c.bus.handle(UpdateWorkflow(view.id, valid(name="renamed")))
    assert (updated.name, updated.created_at) == ("renamed", view.created_at)
    disabled = await c.bus.handle(SetWorkflowEnabled(view.id, False))
    assert (disabled.enabled, disabled.definition["enabled"]) == (False, False)
    assert await c.bus.handle(DeleteWorkflow(view.id)) is True
    assert await c.bus.handle(DeleteWorkflow(view.id)) is False
    assert await c.workflows.queries.workflow(view.id) is None
    with pytest.raises(NotFound):
        await c.bus.handle(SetWorkflowEnabled(view.id, True))
    changes = [e.payload["change"] for e in await rows(c, events)]
    assert changes == ["created", "updated", "disabled", "deleted"]


async def test_manual_runs_need_an_enabled_workflow_with_a_manual_trigger(c: Container) -> None:
    view = await create(c, valid(triggers=[{"type": "webhook", "config": {"key": "only"}}]))
    with pytest.raises(Conflict, match="no manual trigger"):
        await c.bus.handle(StartRun(view.id, "manual"))
    other = await create(c, valid(enabled=False, triggers=[{"type": "manual"}]))
    with pytest.raises(Conflict, match="disabled"):
        await c.bus.handle(StartRun(other.id, "manual"))


async def test_the_enabled_list_is_cached_and_evicted_on_every_change(c: Container) -> None:
    view = await create(c, valid())
    assert await names(c) == ["Order follow-up"]
    # Behind the cache's back: the cached list is served (proves it is cached)...
    async with c.engine.begin() as conn:
        await conn.execute(update(workflows).values(name="changed in SQL"))
    assert await names(c) == ["Order follow-up"]
    # ...until any change goes through a handler.
    await c.bus.handle(UpdateWorkflow(view.id, valid(name="edited")))
    assert await names(c) == ["edited"]
    await c.bus.handle(SetWorkflowEnabled(view.id, False))
    assert await names(c) == []
    await c.bus.handle(SetWorkflowEnabled(view.id, True))
    assert await names(c) == ["edited"]
    await c.bus.handle(DeleteWorkflow(view.id))
    assert await names(c) == []
    await create(c, valid(name="new"))
    assert await names(c) == ["new"]
