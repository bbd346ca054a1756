"""Cancelling workflow runs on both dialects: a queued run never starts, a running one stops
before its next step, a finished one refuses."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from app.errors import Conflict
from app.workflows.commands import CancelRun, ExecuteRun
from domain.workflows.runs import RunStatus, StepStatus
from tests.fake_chat import FakeChat
from tests.integration.workflow_support import (
    create,
    definition,
    run_ends,
    slack,
    start,
    stored_run,
)
from tests.waiting import eventually
from visapi.bootstrap import Container, bootstrap
from visapi.settings import Settings


@pytest.fixture
async def c(wf_settings: Settings) -> AsyncIterator[Container]:
    container = bootstrap(wf_settings)
    yield container
    await container.aclose()


async def test_a_canceled_queued_run_never_starts(c: Container, chat: FakeChat) -> None:
    workflow = await create(c, definition(slack("a", "x")))
    run = await start(c, workflow, {})
    canceled = await c.bus.handle(CancelRun(run.id))
    assert canceled.status is RunStatus.CANCELED
    assert await c.bus.handle(ExecuteRun(run.id)) is RunStatus.CANCELED
    done = await stored_run(c, run.id)
    assert [s.status for s in done.steps] == [StepStatus.SKIPPED]
    assert chat.calls == 0


async def test_cancel_stops_a_running_run_before_its_next_step(
    c: Container, chat: FakeChat
) -> None:
    workflow = await create(
        c,
        definition(
            slack("a", "before"),
            {"id": "wait", "type": "delay", "config": {"seconds": 1}},
            slack("b", "after"),
        ),
    )
    run = await start(c, workflow, {})
    executing = asyncio.create_task(c.bus.handle(ExecuteRun(run.id)))

    async def delay_running() -> bool:
        return (await stored_run(c, run.id)).steps[1].status is StepStatus.RUNNING

    # Cancel while the delay is under way (its attempt recorded as running).
    await eventually(delay_running, why="the delay never started", poll_s=0.01)
    await c.bus.handle(CancelRun(run.id))
    assert await executing is RunStatus.CANCELED
    done = await stored_run(c, run.id)
    assert done.status is RunStatus.CANCELED
    assert [s.status for s in done.steps] == [
        StepStatus.SUCCEEDED,
        StepStatus.SUCCEEDED,  # the delay under way finished
        StepStatus.SKIPPED,
    ]
    assert chat.texts() == ["before"]
    # Counted once, by the cancel: the executor stopping on it does not count it again.
    assert run_ends(c) == {"succeeded": 0, "failed": 0, "canceled": 1}


async def test_cancel_refuses_a_finished_run(c: Container) -> None:
    workflow = await create(c, definition({"id": "w", "type": "delay", "config": {"seconds": 0}}))
    run = await start(c, workflow, {})
    await c.bus.handle(ExecuteRun(run.id))
    await c.bus.handle(ExecuteRun(run.id))  # a redelivery of a finished run counts nothing
    with pytest.raises(Conflict, match="succeeded"):
        await c.bus.handle(CancelRun(run.id))
    assert run_ends(c) == {"succeeded": 1, "failed": 0, "canceled": 0}
