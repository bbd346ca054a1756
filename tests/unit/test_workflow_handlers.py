"""Workflow definition and run handlers on the fake unit of work: what is stored, the webhook
key that routes to one workflow, runs with their job, and cancellation."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from app.errors import Conflict, InvalidInput, NotFound
from app.workflows.commands import (
    CancelRun,
    CreateWorkflow,
    DeleteWorkflow,
    SetWorkflowEnabled,
    StartRun,
    UpdateWorkflow,
)
from app.workflows.handlers import (
    create_workflow,
    delete_workflow,
    set_workflow_enabled,
    update_workflow,
)
from app.workflows.ports import WorkflowView
from app.workflows.runs import cancel_run, start_run
from domain.workflows.model import WorkflowChanged, WorkflowRunCanceled
from domain.workflows.rules import InvalidDefinition
from domain.workflows.runs import RunStatus
from tests.fakes import FakeUnitOfWorkFactory
from tests.unit.handler_support import Clock
from tests.workflow_docs import valid


@pytest.fixture
def uow() -> FakeUnitOfWorkFactory:
    return FakeUnitOfWorkFactory()


async def create(uow: FakeUnitOfWorkFactory, definition: Any = None) -> WorkflowView:
    cmd = CreateWorkflow(definition if definition is not None else valid(), actor="admin:ana")
    return await create_workflow(cmd, uow=uow, cache=None, now=Clock(), new_id=uuid.uuid4)


async def start(uow: FakeUnitOfWorkFactory, workflow_id: uuid.UUID, **kw: Any) -> Any:
    cmd = StartRun(workflow_id=workflow_id, trigger_type=kw.pop("trigger_type", "manual"), **kw)
    return await start_run(cmd, uow=uow, now=Clock(), new_id=uuid.uuid4)


async def test_a_created_workflow_is_stored_with_its_document(uow: FakeUnitOfWorkFactory) -> None:
    view = await create(uow)
    assert uow.store.workflows[view.id].definition == valid()
    assert (view.name, view.enabled) == ("Order follow-up", True)
    assert [e.change for e in uow.store.events if isinstance(e, WorkflowChanged)] == ["created"]


async def test_an_invalid_document_is_refused_before_anything_is_stored(
    uow: FakeUnitOfWorkFactory,
) -> None:
    with pytest.raises(InvalidDefinition):
        await create(uow, {"name": "x"})
    assert uow.store.workflows == {}


async def test_a_webhook_key_of_another_workflow_is_a_conflict(uow: FakeUnitOfWorkFactory) -> None:
    await create(uow)
    with pytest.raises(Conflict) as raised:
        await create(uow, valid(name="Copy"))
    assert raised.value.field == "$.triggers[1].config.key"
    assert len(uow.store.workflows) == 1


async def test_an_update_may_keep_its_own_webhook_key(uow: FakeUnitOfWorkFactory) -> None:
    view = await create(uow)
    cmd = UpdateWorkflow(view.id, valid(name="Renamed"))
    updated = await update_workflow(cmd, uow=uow, cache=None, now=Clock())
    assert uow.store.workflows[view.id].name == "Renamed"
    assert updated.created_at == view.created_at


async def test_updating_an_unknown_workflow_is_not_found(uow: FakeUnitOfWorkFactory) -> None:
    with pytest.raises(NotFound):
        await update_workflow(
            UpdateWorkflow(uuid.uuid4(), valid()), uow=uow, cache=None, now=Clock()
        )


async def test_disabling_keeps_the_column_and_document_in_step(uow: FakeUnitOfWorkFactory) -> None:
    view = await create(uow)
    cmd = SetWorkflowEnabled(view.id, enabled=False)
    await set_workflow_enabled(cmd, uow=uow, cache=None, now=Clock())
    kept = uow.store.workflows[view.id]
    assert (kept.enabled, kept.definition["enabled"]) == (False, False)


async def test_deleting_removes_the_workflow_and_its_runs(uow: FakeUnitOfWorkFactory) -> None:
    view = await create(uow)
    await start(uow, view.id)
    cmd = DeleteWorkflow(view.id)
    assert await delete_workflow(cmd, uow=uow, cache=None, now=Clock()) is True
    assert uow.store.workflows == {}
    assert uow.store.runs == {}


async def test_deleting_an_unknown_workflow_answers_false(uow: FakeUnitOfWorkFactory) -> None:
    cmd = DeleteWorkflow(uuid.uuid4())
    assert await delete_workflow(cmd, uow=uow, cache=None, now=Clock()) is False
    assert uow.store.commits == 0


async def test_a_started_run_is_queued_with_its_job(uow: FakeUnitOfWorkFactory) -> None:
    view = await create(uow)
    run = await start(uow, view.id, context={"who": "ana"})
    stored = uow.store.runs[run.id]
    assert (stored.status, stored.context) == (RunStatus.QUEUED, {"who": "ana"})
    assert [(j.actor, dict(j.arguments)) for j in uow.store.outbox] == [
        ("run_workflow", {"run_id": str(run.id)})
    ]


async def test_a_disabled_workflow_starts_no_run(uow: FakeUnitOfWorkFactory) -> None:
    view = await create(uow, valid(enabled=False))
    with pytest.raises(Conflict, match="disabled"):
        await start(uow, view.id)
    assert uow.store.runs == {}


async def test_a_trigger_the_workflow_lacks_starts_no_run(uow: FakeUnitOfWorkFactory) -> None:
    view = await create(uow, valid(triggers=[{"type": "manual"}]))
    with pytest.raises(Conflict, match="no webhook trigger"):
        await start(uow, view.id, trigger_type="webhook")


async def test_a_reserved_context_key_is_refused_by_name(uow: FakeUnitOfWorkFactory) -> None:
    view = await create(uow)
    with pytest.raises(InvalidInput) as raised:
        await start(uow, view.id, context={"order": {}})
    assert raised.value.field == "context.order"


async def test_canceling_a_queued_run_stores_it_and_records_why(uow: FakeUnitOfWorkFactory) -> None:
    view = await create(uow)
    run = await start(uow, view.id)
    canceled = await cancel_run(CancelRun(run.id), uow=uow, now=Clock())
    assert canceled.status == RunStatus.CANCELED
    assert uow.store.runs[run.id].status == RunStatus.CANCELED
    assert isinstance(uow.store.events[-1], WorkflowRunCanceled)


async def test_canceling_a_canceled_run_is_a_conflict(uow: FakeUnitOfWorkFactory) -> None:
    view = await create(uow)
    run = await start(uow, view.id)
    await cancel_run(CancelRun(run.id), uow=uow, now=Clock())
    with pytest.raises(Conflict):
        await cancel_run(CancelRun(run.id), uow=uow, now=Clock())


async def test_canceling_an_unknown_run_is_not_found(uow: FakeUnitOfWorkFactory) -> None:
    with pytest.raises(NotFound):
        await cancel_run(CancelRun(uuid.uuid4()), uow=uow, now=Clock())
