"""execute_run on the fake unit of work with fake step runners: steps in order, retries paced by
the injected sleep, a step that times out, a cancel between steps, a replay resuming at the
failed step. Nothing sleeps: `sleep` records the delays asked for."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Any

import pytest

from app.workflows.commands import CancelRun, ExecuteRun, StartRun
from app.workflows.execute import Pacing, RunFailed, StepCall, execute_run
from app.workflows.runs import cancel_run, start_run
from domain.workflows.runs import RunStatus, StepStatus, WorkflowRun
from tests.fakes import FakeUnitOfWorkFactory
from tests.unit.handler_support import Clock
from tests.unit.workflow_support import create

STEPS = [
    {"id": "tell", "type": "slack.send", "config": {"channel": "#ops", "message": "hi {{who}}"}},
    {
        "id": "mail",
        "type": "email.send",
        "config": {"recipient": "a@example.com", "subject": "Hi", "body": "Thanks"},
        "retries": 2,
        "timeout": 5,
    },
]


class Runners:
    """Step runners by type; `failures[type]` scripts exceptions for the next calls."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, Mapping[str, Any]]] = []
        self.failures: dict[str, list[BaseException]] = {}
        self.before: dict[str, Any] = {}  # type -> coroutine function run before answering

    def runner(self, kind: str) -> Any:
        async def run(config: Mapping[str, Any], call: StepCall) -> Any:
            self.calls.append((call.step_id, config))
            if kind in self.before:
                await self.before.pop(kind)()
            if self.failures.get(kind):
                raise self.failures[kind].pop(0)
            return {"done": call.step_id}

        return run

    def by_type(self) -> dict[str, Any]:
        return {k: self.runner(k) for k in ("slack.send", "email.send")}


@pytest.fixture
def uow() -> FakeUnitOfWorkFactory:
    return FakeUnitOfWorkFactory()


async def queued(uow: FakeUnitOfWorkFactory) -> WorkflowRun:
    workflow = await create(uow, steps=STEPS)
    cmd = StartRun(workflow.id, "manual", context={"who": "ana"})
    return await start_run(cmd, uow=uow, now=Clock(), new_id=uuid.uuid4)


async def execute(
    uow: FakeUnitOfWorkFactory, run: WorkflowRun, runners: Runners, delays: list[float]
) -> Any:
    async def sleep(seconds: float) -> None:
        delays.append(seconds)

    return await execute_run(
        ExecuteRun(run.id),
        uow=uow,
        runners=runners.by_type(),
        pacing=Pacing(backoff_s=0.5),
        now=Clock(),
        sleep=sleep,
    )


def step(uow: FakeUnitOfWorkFactory, run: WorkflowRun, id: str) -> Any:
    return uow.store.runs[run.id].step(id)


async def test_steps_run_in_order_with_rendered_config(uow: FakeUnitOfWorkFactory) -> None:
    run, runners = await queued(uow), Runners()
    assert await execute(uow, run, runners, []) is RunStatus.SUCCEEDED
    assert [(id, dict(c).get("message")) for id, c in runners.calls] == [
        ("tell", "hi ana"),
        ("mail", None),
    ]
    assert uow.store.runs[run.id].status is RunStatus.SUCCEEDED
    assert step(uow, run, "mail").output == {"done": "mail"}


async def test_a_failing_step_is_retried_with_doubling_backoff(uow: FakeUnitOfWorkFactory) -> None:
    run, runners, delays = await queued(uow), Runners(), []
    runners.failures["email.send"] = [RuntimeError("smtp 451"), RuntimeError("smtp 451")]
    assert await execute(uow, run, runners, delays) is RunStatus.SUCCEEDED
    assert delays == [0.5, 1.0]
    assert (step(uow, run, "mail").attempts, step(uow, run, "mail").error) == (3, None)


async def test_a_step_out_of_retries_fails_the_run_for_the_dead_letters(
    uow: FakeUnitOfWorkFactory,
) -> None:
    run, runners = await queued(uow), Runners()
    runners.failures["email.send"] = [RuntimeError("smtp 550")] * 3
    with pytest.raises(RunFailed, match="'mail' failed"):
        await execute(uow, run, runners, [])
    stored = uow.store.runs[run.id]
    assert (stored.status, stored.step("mail").status) == (RunStatus.FAILED, StepStatus.FAILED)
    assert stored.step("mail").attempts == 3
    assert "smtp 550" in (stored.step("mail").error or "")


async def test_a_step_that_times_out_records_its_timeout(uow: FakeUnitOfWorkFactory) -> None:
    # The step's timeout is a whole number of seconds (at least 1): the runner raises what
    # asyncio.timeout raises, rather than the test waiting for it.
    run, runners = await queued(uow), Runners()
    runners.failures["email.send"] = [TimeoutError()] * 3
    with pytest.raises(RunFailed):
        await execute(uow, run, runners, [])
    assert step(uow, run, "mail").error == "timed out after 5 s"


async def test_a_cancel_during_a_step_stops_the_run_before_the_next(
    uow: FakeUnitOfWorkFactory,
) -> None:
    run, runners = await queued(uow), Runners()

    async def cancel() -> None:
        await cancel_run(CancelRun(run.id), uow=uow, now=Clock())

    runners.before["slack.send"] = cancel
    assert await execute(uow, run, runners, []) is RunStatus.CANCELED
    assert [id for id, _ in runners.calls] == ["tell"]
    stored = uow.store.runs[run.id]
    assert stored.status is RunStatus.CANCELED
    assert stored.step("tell").status is StepStatus.SUCCEEDED  # what it did is kept
    assert stored.step("mail").status is not StepStatus.SUCCEEDED


async def test_a_replay_resumes_at_the_failed_step(uow: FakeUnitOfWorkFactory) -> None:
    run, runners = await queued(uow), Runners()
    runners.failures["email.send"] = [RuntimeError("smtp 550")] * 3
    with pytest.raises(RunFailed):
        await execute(uow, run, runners, [])
    runners.calls.clear()
    assert await execute(uow, run, runners, []) is RunStatus.SUCCEEDED
    assert [id for id, _ in runners.calls] == ["mail"]
    assert step(uow, run, "mail").attempts == 4


async def test_a_finished_run_is_not_executed_again(uow: FakeUnitOfWorkFactory) -> None:
    run, runners = await queued(uow), Runners()
    await execute(uow, run, runners, [])
    runners.calls.clear()
    assert await execute(uow, run, runners, []) is RunStatus.SUCCEEDED
    assert runners.calls == []
