"""Orders start their workflows in their own transaction, on both dialects: the order, its
runs and their `run_workflow` jobs commit together or not at all; only enabled workflows keyed
`vizi_<country>` start; duplicates and retriggers start no second run."""

from __future__ import annotations

from collections.abc import AsyncIterator
from functools import partial
from pathlib import Path
from typing import Any, Self

import pytest
from sqlalchemy import update

from app.orders.commands import CreateOrder, OrderAccepted, RetriggerOrder
from app.orders.commands import OrderRetriggered as Retriggered
from app.workflows.commands import SetWorkflowEnabled
from domain.workflows.runs import WorkflowRun
from infrastructure.db.tables import events, orders, outbox, webhook_payloads, workflow_runs
from infrastructure.db.uow import SqlUnitOfWork
from tests.integration.workflow_support import create, rows, workflow_settings
from tests.pipeline import body
from tests.workflow_docs import valid
from visapi.bootstrap import Container, bootstrap
from visapi.settings import Settings


@pytest.fixture
async def c(settings: Settings, tmp_path: Path) -> AsyncIterator[Container]:
    container = bootstrap(workflow_settings(settings, tmp_path))
    yield container
    await container.aclose()


def keyed(name: str, key: str, enabled: bool = True) -> dict[str, Any]:
    return valid(name=name, enabled=enabled, triggers=[{"type": "webhook", "config": {"key": key}}])


async def accept(c: Container, payload: dict[str, Any]) -> OrderAccepted:
    outcome = await c.bus.handle(CreateOrder(payload=payload))
    assert isinstance(outcome, OrderAccepted)
    return outcome


async def test_the_order_its_run_and_the_runs_job_commit_together(c: Container) -> None:
    uk = await create(c, keyed("uk orders", "vizi_uk"))
    accepted = await accept(c, body())  # a UK ETA order
    (run,) = await rows(c, workflow_runs)
    assert (run.workflow_id, run.status, run.trigger_type, run.trigger_key) == (
        uk.id,
        "queued",
        "webhook",
        "vizi_uk",
    )
    assert run.context["order"]["id"] == str(accepted.order.id)
    assert run.context["order"]["order_id"] == "IL251101GB07"
    assert run.context["order"]["product_country"] == "uk"
    jobs = {(r.actor, *r.arguments.values()) for r in await rows(c, outbox)}
    assert jobs == {("run_workflow", str(run.id)), ("sync_contact", str(accepted.order.id))}
    types = sorted(e.type for e in await rows(c, events) if e.type != "workflow.changed")
    assert types == ["order.created", "workflow.run_queued"]


class Injected(Exception):
    """The failure a test injects right after a run's insert."""


class RunsThenFail:
    def __init__(self, runs: Any) -> None:
        self._runs = runs

    async def add(self, run: WorkflowRun) -> None:
        await self._runs.add(run)  # the row is written in the transaction...
        raise Injected(str(run.id))  # ...then the handler fails before its commit


class FailAfterRunInsert(SqlUnitOfWork):
    async def __aenter__(self) -> Self:
        unit = await super().__aenter__()
        unit.runs = RunsThenFail(unit.runs)  # type: ignore[assignment]
        return unit


async def test_a_failure_after_the_run_insert_rolls_back_the_order_too(
    c: Container, settings: Settings, tmp_path: Path
) -> None:
    await create(c, keyed("uk orders", "vizi_uk"))
    assert isinstance(c.uow, partial)
    failing = bootstrap(
        workflow_settings(settings, tmp_path),
        uow=partial(FailAfterRunInsert, *c.uow.args, **c.uow.keywords),
    )
    try:
        with pytest.raises(Injected):
            await failing.bus.handle(CreateOrder(payload=body()))
    finally:
        await failing.aclose()
    assert await rows(c, orders) == []
    assert await rows(c, workflow_runs) == []
    assert await rows(c, outbox) == []
    assert [e.type for e in await rows(c, events)] == ["workflow.changed"]
    assert await rows(c, webhook_payloads) == []
    # The same body through the working container: everything is there.
    await accept(c, body())
    assert (len(await rows(c, orders)), len(await rows(c, workflow_runs))) == (1, 1)


async def test_disabled_workflows_and_other_countries_start_nothing(c: Container) -> None:
    off = await create(c, keyed("uk orders", "vizi_uk"))
    await c.bus.handle(SetWorkflowEnabled(off.id, False))
    await create(c, keyed("india orders", "vizi_india"))
    await create(c, keyed("almost uk", "vizi_uk_eta"))
    await accept(c, body())
    assert await rows(c, workflow_runs) == []
    assert [r.actor for r in await rows(c, outbox)] == ["sync_contact"]


async def test_a_duplicate_order_starts_no_second_run(c: Container) -> None:
    await create(c, keyed("uk orders", "vizi_uk"))
    first = await accept(c, body())
    again = await accept(c, body())
    assert (again.created, again.order.id) == (False, first.order.id)
    assert len(await rows(c, workflow_runs)) == 1
    assert [r.actor for r in await rows(c, outbox)].count("run_workflow") == 1


async def test_retrigger_starts_no_second_run_of_an_order(c: Container) -> None:
    await create(c, keyed("uk orders", "vizi_uk"))
    order = (await accept(c, body())).order
    retriggered = await c.bus.handle(RetriggerOrder(order.id))
    assert isinstance(retriggered, Retriggered)
    assert retriggered.jobs == ["sync_contact"]
    assert len(await rows(c, workflow_runs)) == 1
    assert [r.actor for r in await rows(c, outbox)].count("run_workflow") == 1


async def test_retrigger_starts_the_runs_an_order_lacks(c: Container) -> None:
    # Created before its workflow existed: no run yet.
    order = (await accept(c, body())).order
    uk = await create(c, keyed("uk orders", "vizi_uk"))
    retriggered = await c.bus.handle(RetriggerOrder(order.id))
    assert isinstance(retriggered, Retriggered)
    assert retriggered.jobs == ["sync_contact", "run_workflow"]
    (run,) = await rows(c, workflow_runs)
    assert (run.workflow_id, run.trigger_key) == (uk.id, "vizi_uk")
    assert run.context["order"]["id"] == str(order.id)
    (job,) = [r for r in await rows(c, outbox) if r.actor == "run_workflow"]
    assert job.arguments == {"run_id": str(run.id)}
    # Again: it has its run now.
    assert (await c.bus.handle(RetriggerOrder(order.id))).jobs == ["sync_contact"]
    # Another order's run does not count as this one's.
    async with c.engine.begin() as conn:
        await conn.execute(update(workflow_runs).values(context={"order": {"id": "other"}}))
    assert (await c.bus.handle(RetriggerOrder(order.id))).jobs == ["sync_contact", "run_workflow"]
    assert len(await rows(c, workflow_runs)) == 2
