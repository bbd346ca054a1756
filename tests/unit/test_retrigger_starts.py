"""retrigger_order's workflow starts (app.workflows.orders.OrderWorkflows.plan, as the orders
slice binds it): a matching workflow without a run for the order gets one, in the order's own
transaction; one that has a run already gets no second."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from app.orders.commands import RetriggerOrder
from app.orders.retrigger import retrigger_order
from app.ports import ArchivedPayload
from app.workflows.orders import OrderWorkflows
from domain.orders.model import Order, OrderRetriggered
from domain.workflows.model import WorkflowRunQueued
from tests.fakes import FakeUnitOfWorkFactory
from tests.unit.handler_support import T0, Clock, body, stored
from tests.unit.workflow_support import create, enabled_of
from visapi.bootstrap import jobs_for

UK = [{"type": "webhook", "config": {"key": "vizi_uk"}}]  # the fixture order's country


@pytest.fixture
def uow() -> FakeUnitOfWorkFactory:
    return FakeUnitOfWorkFactory()


@pytest.fixture
def order(uow: FakeUnitOfWorkFactory) -> Order:
    kept = stored(uow.store)
    uow.store.payloads.append(
        ArchivedPayload(uuid.uuid4(), "webhook", body(), "accepted", T0, order_uuid=kept.id)
    )
    return kept


async def retrigger(uow: FakeUnitOfWorkFactory, order: Order) -> Any:
    starts = OrderWorkflows(enabled=enabled_of(uow), now=Clock(), new_id=uuid.uuid4).plan
    cmd = RetriggerOrder(order.id, actor="admin:ana")
    return await retrigger_order(cmd, uow=uow, now=Clock(), jobs_for=jobs_for, starts=starts)


async def test_a_matching_workflow_without_a_run_gets_one(
    uow: FakeUnitOfWorkFactory, order: Order
) -> None:
    workflow = await create(uow, triggers=UK)
    done = await retrigger(uow, order)
    (run,) = uow.store.runs.values()
    assert (run.workflow_id, run.trigger_type, run.trigger_key) == (
        workflow.id,
        "webhook",
        "vizi_uk",
    )
    assert run.context["order"]["id"] == str(order.id)
    assert done.jobs == ["sync_contact", "run_workflow"]


async def test_the_run_commits_with_the_retrigger_event(
    uow: FakeUnitOfWorkFactory, order: Order
) -> None:
    await create(uow, triggers=UK)
    commits = uow.store.commits
    await retrigger(uow, order)
    assert uow.store.commits == commits + 1
    assert [type(e) for e in uow.store.events[-2:]] == [OrderRetriggered, WorkflowRunQueued]
    assert sorted(j.actor for j in uow.store.outbox) == ["run_workflow", "sync_contact"]


async def test_a_second_retrigger_adds_no_second_run(
    uow: FakeUnitOfWorkFactory, order: Order
) -> None:
    await create(uow, triggers=UK)
    await retrigger(uow, order)
    again = await retrigger(uow, order)
    assert len(uow.store.runs) == 1
    assert again.jobs == ["sync_contact"]


async def test_a_workflow_of_another_country_is_not_started(
    uow: FakeUnitOfWorkFactory, order: Order
) -> None:
    await create(uow, triggers=[{"type": "webhook", "config": {"key": "vizi_fr"}}])
    done = await retrigger(uow, order)
    assert uow.store.runs == {}
    assert done.jobs == ["sync_contact"]
