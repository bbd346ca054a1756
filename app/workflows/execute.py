"""The executor of a run (the `run_workflow` job): steps in order, each with its retries,
backoff and timeout, every attempt recorded on the run.

Jobs arrive at least once and failed runs are replayed from the dead letters with the same
run id, so executing is idempotent: steps that succeeded are never redone, and a run another
executor is working on (recent progress) is left alone.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

from app.live import run_notice
from app.logs.ports import LogLevel
from app.metrics import NO_METRICS, Metrics
from app.ports import UnitOfWork, UnitOfWorkFactory
from app.vendors import ErrorKind, VendorError
from app.workflows.commands import ExecuteRun
from app.workflows.ports import WorkflowView, step_list
from domain.workflows.model import Definition, Step, definition_from
from domain.workflows.render import render_config
from domain.workflows.runs import RunStatus, StepStatus, WorkflowRun, error_text

log = logging.getLogger("visapi.workflows")

MAX_BACKOFF_S = 30.0


@dataclass(frozen=True)
class StepCall:
    """What a step runner knows besides its rendered config."""

    run_id: UUID
    workflow_id: UUID
    step_id: str
    timeout_s: int


StepRunner = Callable[[Mapping[str, Any], StepCall], Awaitable[Any]]


class StepInputError(Exception):
    """The rendered config cannot be sent (e.g. a placeholder gave no phone): not retried."""


class RunFailed(Exception):
    """Raised at the end of a failed run so its job ends in the dead letters (replayable)."""


class RunBusy(Exception):
    """Another delivery is executing the run (recent progress). Raised, not acknowledged: if
    that executor died, the dead letter is how the run gets replayed once it is stale."""


# A live executor writes progress at least once per attempt: the longest gap is one step's
# timeout (at most 300 s) plus one backoff, so a run quiet for longer has lost its executor.
STALE_AFTER_S = 300 + MAX_BACKOFF_S + 30


@dataclass(frozen=True)
class Pacing:
    backoff_s: float = 1.0  # first retry delay; doubles per attempt up to MAX_BACKOFF_S
    stale_after_s: float = STALE_AFTER_S  # a running run without progress this long is taken over


async def execute_run(
    cmd: ExecuteRun,
    *,
    uow: UnitOfWorkFactory,
    runners: Mapping[str, StepRunner],
    pacing: Pacing,
    now: Callable[[], datetime],
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    metrics: Metrics = NO_METRICS,
) -> RunStatus | None:
    claimed = await _claim(cmd.run_id, uow, now(), pacing.stale_after_s)
    if claimed is None:
        return None
    run, workflow = claimed
    if run.status is not RunStatus.RUNNING:
        return run.status  # finished, canceled, or another executor holds it
    definition = definition_from(workflow.definition)
    saver = _Saver(uow, now, metrics)
    for step in definition.steps:
        result = run.step(step.id)
        if result.status is StepStatus.SUCCEEDED:
            continue  # done by an earlier delivery or before a replay
        context = _context(run, workflow, definition)
        outcome = await _run_step(run, step, context, runners, pacing, saver, now, sleep)
        if outcome is not StepStatus.SUCCEEDED:
            if outcome is StepStatus.FAILED:
                raise RunFailed(f"run {run.id}: step {step.id!r} failed: {result.error}")
            return RunStatus.CANCELED
    run.status, run.finished_at = RunStatus.SUCCEEDED, now()
    if not await saver.save(run):
        return RunStatus.CANCELED
    log.info("workflow run %s succeeded", run.id)
    return RunStatus.SUCCEEDED


async def _claim(
    run_id: UUID, uow: UnitOfWorkFactory, at: datetime, stale_after_s: float
) -> tuple[WorkflowRun, WorkflowView] | None:
    async with uow() as unit:
        run = await unit.runs.get(run_id, lock=True)
        if run is None:
            log.warning("run_workflow: no run %s (workflow deleted?); job acknowledged", run_id)
            return None
        workflow = await unit.workflows.get(run.workflow_id)
        if workflow is None:
            return None
        fresh = run.updated_at is not None and at - run.updated_at < timedelta(
            seconds=stale_after_s
        )
        if run.status is RunStatus.RUNNING and fresh:
            raise RunBusy(
                f"run {run_id} is being executed elsewhere; if it stays running, replay this"
                f" job after {stale_after_s:.0f} s without progress"
            )
        if run.status not in (RunStatus.QUEUED, RunStatus.FAILED, RunStatus.RUNNING):
            return run, workflow
        run.align(step_list(workflow.definition))
        for result in run.steps:
            if result.status in (StepStatus.FAILED, StepStatus.RUNNING):
                result.status, result.error = StepStatus.PENDING, None  # a replay tries again
        again = run.started_at is not None
        run.status, run.finished_at = RunStatus.RUNNING, None
        run.started_at = run.started_at or at
        await unit.runs.save(run, at)
        unit.logs.add(
            LogLevel.INFO,
            f"workflow run {run.id} of {workflow.name!r} {'resumed' if again else 'started'}"
            f" ({run.trigger_type})",
            metadata={"run_id": str(run.id), "trigger": run.trigger_type},
            workflow_id=run.workflow_id,
        )
        await unit.commit()
    return run, workflow


def _context(run: WorkflowRun, workflow: WorkflowView, definition: Definition) -> dict[str, Any]:
    # The run's own facts last, so that no stored context (older runs were queued before the
    # callers' keys were checked) can replace the definition's variables or the run's outputs.
    return {
        **run.context,
        "variables": dict(definition.variables),
        "workflow": {"id": str(workflow.id), "name": workflow.name},
        "run": {"id": str(run.id), "trigger": run.trigger_type, "key": run.trigger_key},
        "steps": run.outputs(),
    }


async def _run_step(
    run: WorkflowRun,
    step: Step,
    context: Mapping[str, Any],
    runners: Mapping[str, StepRunner],
    pacing: Pacing,
    saver: _Saver,
    now: Callable[[], datetime],
    sleep: Callable[[float], Awaitable[None]],
) -> StepStatus:
    """Attempts of one step: 1 + retries, each under the step's timeout."""
    result = run.step(step.id)
    call = StepCall(run.id, run.workflow_id, step.id, step.timeout_s)
    runner = runners[step.type]
    for attempt in range(step.retries + 1):
        result.status, result.attempts = StepStatus.RUNNING, result.attempts + 1
        result.started_at = result.started_at or now()
        if not await saver.save(run):
            return StepStatus.SKIPPED  # canceled before this attempt
        retry_after: float | None = None
        try:
            async with asyncio.timeout(step.timeout_s):
                output = await runner(render_config(step.type, step.config, context), call)
        except TimeoutError:
            result.error = f"timed out after {step.timeout_s} s"
        except StepInputError as exc:
            result.error, attempt = str(exc), step.retries  # no retry can fix the input
        except VendorError as exc:
            result.error = error_text(exc)
            if exc.kind is ErrorKind.PERMANENT:
                attempt = step.retries
            retry_after = exc.retry_after_s if exc.kind is ErrorKind.RATE_LIMITED else None
        except Exception as exc:  # an adapter bug must fail the step, not kill the worker
            log.exception("step %s of run %s raised", step.id, run.id)
            result.error = error_text(exc)
        else:
            result.status, result.output, result.error = StepStatus.SUCCEEDED, output, None
            result.finished_at = now()
            return StepStatus.SUCCEEDED if await saver.save(run) else StepStatus.SKIPPED
        if attempt >= step.retries:
            break
        log.info("run %s step %s attempt %d failed: %s", run.id, step.id, attempt + 1, result.error)
        await sleep(retry_after or min(pacing.backoff_s * 2**attempt, MAX_BACKOFF_S))
    result.status, result.finished_at = StepStatus.FAILED, now()
    run.status, run.finished_at = RunStatus.FAILED, now()
    await saver.save(run)
    return StepStatus.FAILED


# Step results worth a log line, and runs' ends.
_STEP_ENDS = frozenset({StepStatus.SUCCEEDED, StepStatus.FAILED})
# The statuses an executor ends a run in; canceled is counted where a run is canceled (runs.py).
_FINAL = frozenset({RunStatus.SUCCEEDED, RunStatus.FAILED})


class _Saver:
    """Writes the run's progress unless it was canceled meanwhile (then keeps it canceled).

    A run reaches its final status when that status is committed here, so this is where it is
    counted: once per end (a replayed failed run that then succeeds counts both ends).
    """

    def __init__(
        self, uow: UnitOfWorkFactory, now: Callable[[], datetime], metrics: Metrics
    ) -> None:
        self._uow = uow
        self._now = now
        self._metrics = metrics
        self._logged: dict[str, StepStatus] = {}  # the step results already logged

    def _log(self, unit: UnitOfWork, run: WorkflowRun) -> None:
        """A line for each step result not logged yet, and for the run's end."""
        for result in run.steps:
            if result.status in _STEP_ENDS and self._logged.get(result.id) is not result.status:
                self._logged[result.id] = result.status
                error = f": {result.error}" if result.error else ""
                unit.logs.add(
                    LogLevel.INFO if result.status is StepStatus.SUCCEEDED else LogLevel.WARN,
                    f"workflow run {run.id} step {result.id!r} {result.status.value}"
                    f" after {result.attempts} attempt(s){error}",
                    metadata={"run_id": str(run.id), "step": result.id},
                    workflow_id=run.workflow_id,
                )
        if run.status in _FINAL:
            unit.logs.add(
                LogLevel.INFO if run.status is RunStatus.SUCCEEDED else LogLevel.ERROR,
                f"workflow run {run.id} {run.status.value}",
                metadata={"run_id": str(run.id)},
                workflow_id=run.workflow_id,
            )

    async def save(self, run: WorkflowRun) -> bool:
        at = self._now()
        async with self._uow() as unit:
            stored = await unit.runs.get(run.id, lock=True)
            if stored is None:
                return False
            if stored.status is RunStatus.CANCELED:
                # Keep what this executor did (attempts, outputs); the rest stays skipped.
                mine = {r.id: r for r in run.steps if r.status is not StepStatus.PENDING}
                stored.steps = [mine.get(r.id, r) for r in stored.steps]
                await unit.runs.save(stored, at)
                unit.announce([run_notice(stored.id, stored.status.value, at)])
                await unit.commit()
                return False
            await unit.runs.save(run, at)
            unit.announce([run_notice(run.id, run.status.value, at)])
            self._log(unit, run)
            await unit.commit()
        run.updated_at = at
        if run.status in _FINAL:
            self._metrics.workflow_run(run.status.value)
        return True
