"""Workflow definitions through the bus on both dialects: stored, refused with every error,
webhook keys unique across workflows, the enabled list cached and evicted on every change."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import update

from app.errors import Conflict, NotFound
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
from visapi.bootstrap import Container, bootstrap
from visapi.settings import Settings

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "vizi-orders"


@pytest.fixture
async def c(settings: Settings, tmp_path: Path) -> AsyncIterator[Container]:
    container = bootstrap(workflow_settings(settings, tmp_path))
    yield container
    await container.aclose()


async def names(c: Container) -> list[str]:
    return [w.name for w in await c.workflows.enabled()]


async def test_create_stores_the_definition_and_an_audit_event(c: Container) -> None:
    view = await create(c, valid())
    stored = await c.workflows.workflow(view.id)
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
    assert await c.workflows.workflow(view.id) is None
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


async def test_an_order_starts_the_workflows_keyed_by_its_country(c: Container) -> None:
    import json

    from app.orders.commands import CreateOrder, OrderAccepted
    from infrastructure.db.tables import outbox, workflow_runs

    def keyed(name: str, key: str, enabled: bool = True) -> dict[str, Any]:
        return valid(
            name=name, enabled=enabled, triggers=[{"type": "webhook", "config": {"key": key}}]
        )

    uk = await create(c, keyed("uk orders", "vizi_uk"))
    await create(c, keyed("india orders", "vizi_india"))
    await create(c, keyed("disabled uk", "vizi_uk_off", enabled=False))
    body = json.loads((FIXTURES / "il-uk-eta.json").read_text())
    accepted = await c.bus.handle(CreateOrder(payload=body))
    assert isinstance(accepted, OrderAccepted)
    (run,) = await rows(c, workflow_runs)
    assert (run.workflow_id, run.trigger_type, run.trigger_key) == (uk.id, "webhook", "vizi_uk")
    assert run.context["order"]["id"] == str(accepted.order.id)
    assert run.context["order"]["order_id"] == accepted.order.order_id
    assert "run_workflow" in [r.actor for r in await rows(c, outbox)]
    # A duplicate of the same order starts nothing more.
    await c.bus.handle(CreateOrder(payload=body))
    assert len(await rows(c, workflow_runs)) == 1
