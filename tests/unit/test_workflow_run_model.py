"""A workflow run and its step results: creation, cancel, replay alignment, JSON, errors."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from domain.errors import DomainError
from domain.workflows.runs import (
    MAX_ERROR_CHARS,
    RunStatus,
    StepResult,
    StepStatus,
    WorkflowRun,
    error_text,
    reserved_key,
)

NOW = datetime(2026, 3, 1, 12, tzinfo=UTC)
STEPS = [("tell", "slack.send"), ("wait", "delay"), ("mail", "email.send")]


def run(context: dict[str, object] | None = None) -> WorkflowRun:
    return WorkflowRun.queued(
        id=uuid.uuid4(),
        workflow_id=uuid.uuid4(),
        trigger_type="manual",
        trigger_key=None,
        context=context or {},
        steps=STEPS,
        now=NOW,
    )


def test_a_queued_run_has_one_pending_result_per_step_in_order() -> None:
    queued = run()
    assert (queued.status, queued.created_at, queued.started_at) == (RunStatus.QUEUED, NOW, None)
    assert [(r.id, r.type, r.status) for r in queued.steps] == [
        (i, t, StepStatus.PENDING) for i, t in STEPS
    ]


def test_nul_in_the_context_is_replaced_before_it_is_stored() -> None:
    assert run({"body": {"name": "A\x00B"}}).context == {"body": {"name": "A\ufffdB"}}


def test_the_callers_context_is_copied_not_shared() -> None:
    given: dict[str, object] = {"body": 1}
    queued = run(given)
    given["body"] = 2
    assert queued.context == {"body": 1}


@pytest.mark.parametrize("status", [RunStatus.QUEUED, RunStatus.RUNNING])
def test_an_active_run_can_be_canceled(status: RunStatus) -> None:
    active = run()
    active.status = status
    active.cancel(NOW)
    assert (active.status, active.finished_at) == (RunStatus.CANCELED, NOW)


@pytest.mark.parametrize("status", [RunStatus.SUCCEEDED, RunStatus.FAILED, RunStatus.CANCELED])
def test_a_finished_run_cannot_be_canceled(status: RunStatus) -> None:
    done = run()
    done.status = status
    with pytest.raises(DomainError, match=f"is {status.value}; only queued or running"):
        done.cancel(NOW)
    assert done.finished_at is None


def test_cancel_skips_only_the_steps_not_started() -> None:
    running = run()
    running.status = RunStatus.RUNNING
    running.steps[0].status = StepStatus.SUCCEEDED
    running.steps[1].status = StepStatus.RUNNING
    running.cancel(NOW)
    assert [r.status for r in running.steps] == [
        StepStatus.SUCCEEDED,
        StepStatus.RUNNING,
        StepStatus.SKIPPED,
    ]


def test_outputs_are_those_of_succeeded_steps() -> None:
    done = run()
    done.steps[0].status, done.steps[0].output = StepStatus.SUCCEEDED, {"ts": "1"}
    done.steps[1].status, done.steps[1].output = StepStatus.FAILED, {"partial": True}
    assert done.outputs() == {"tell": {"ts": "1"}}


def test_align_keeps_results_of_steps_that_still_exist_in_the_new_order() -> None:
    replayed = run()
    replayed.steps[2].status = StepStatus.SUCCEEDED
    replayed.align([("mail", "email.send"), ("pdf", "pdf.generate")])
    assert [(r.id, r.status) for r in replayed.steps] == [
        ("mail", StepStatus.SUCCEEDED),
        ("pdf", StepStatus.PENDING),
    ]


def test_step_finds_a_result_by_id() -> None:
    assert run().step("wait").type == "delay"


def test_an_unknown_step_id_is_an_error_not_a_new_result() -> None:
    with pytest.raises(StopIteration):
        run().step("nope")


def test_duration_is_known_only_once_finished() -> None:
    result = StepResult("s", "delay", started_at=NOW)
    assert result.duration_ms is None
    result.finished_at = NOW + timedelta(seconds=1, microseconds=2500)
    assert result.duration_ms == 1002  # rounded half to even


def test_a_step_result_round_trips_through_json() -> None:
    result = StepResult(
        "s",
        "slack.send",
        StepStatus.FAILED,
        attempts=3,
        output={"a": [1]},
        error="TimeoutError: slow",
        started_at=NOW,
        finished_at=NOW + timedelta(seconds=2),
    )
    assert StepResult.from_json(result.to_json()) == result


def test_the_json_of_a_result_uses_the_api_names() -> None:
    assert set(StepResult("s", "delay").to_json()) == {
        "id", "type", "status", "attempts", "output", "error", "startedAt", "finishedAt",
    }  # fmt: skip


def test_a_result_stored_with_only_id_and_type_reads_as_pending() -> None:
    assert StepResult.from_json({"id": "s", "type": "delay"}) == StepResult("s", "delay")


def test_an_unknown_stored_status_is_refused() -> None:
    with pytest.raises(ValueError, match="'exploded'"):
        StepResult.from_json({"id": "s", "type": "delay", "status": "exploded"})


@pytest.mark.parametrize(
    ("context", "key"),
    [
        ({"body": {}, "count": 1}, None),
        ({"body": {}, "variables": {"team": "#evil"}}, "variables"),
        ({"order": {}, "steps": {}}, "order"),
        ({"run": 1}, "run"),
        ({"workflow": 1}, "workflow"),
        ({}, None),
    ],
)
def test_reserved_keys_of_a_callers_context(context: dict[str, object], key: str | None) -> None:
    assert reserved_key(context) == key


@pytest.mark.parametrize(
    ("exc", "text"),
    [
        (TimeoutError(), "TimeoutError: TimeoutError"),
        (ValueError("bad phone"), "ValueError: bad phone"),
    ],
)
def test_error_text_names_the_exception_type(exc: BaseException, text: str) -> None:
    assert error_text(exc) == text


def test_error_text_is_cut_to_its_column() -> None:
    assert len(error_text(RuntimeError("x" * 10_000))) == MAX_ERROR_CHARS
