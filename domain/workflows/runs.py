"""A workflow run and its per-step results; the transitions the executor and cancel may make."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any
from uuid import UUID

from domain.errors import DomainError
from domain.orders.text import without_nul

MAX_ERROR_CHARS = 2_000


class RunStatus(StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELED = "canceled"


class StepStatus(StrEnum):
    PENDING = "pending"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    SKIPPED = "skipped"  # the run was canceled before this step started


# A run that may still execute; cancel stops these.
ACTIVE = frozenset({RunStatus.QUEUED, RunStatus.RUNNING})


@dataclass
class StepResult:
    id: str
    type: str
    status: StepStatus = StepStatus.PENDING
    attempts: int = 0
    output: Any = None
    error: str | None = None
    started_at: datetime | None = None
    finished_at: datetime | None = None

    @property
    def duration_ms(self) -> int | None:
        if self.started_at is None or self.finished_at is None:
            return None
        return round((self.finished_at - self.started_at).total_seconds() * 1000)

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "type": self.type,
            "status": self.status.value,
            "attempts": self.attempts,
            "output": self.output,
            "error": self.error,
            "startedAt": self.started_at.isoformat() if self.started_at else None,
            "finishedAt": self.finished_at.isoformat() if self.finished_at else None,
        }

    @classmethod
    def from_json(cls, raw: Mapping[str, Any]) -> StepResult:
        def at(name: str) -> datetime | None:
            value = raw.get(name)
            return datetime.fromisoformat(value) if value else None

        return cls(
            id=raw["id"],
            type=raw["type"],
            status=StepStatus(raw.get("status", "pending")),
            attempts=int(raw.get("attempts", 0)),
            output=raw.get("output"),
            error=raw.get("error"),
            started_at=at("startedAt"),
            finished_at=at("finishedAt"),
        )


# Context keys the system fills and a caller never does: the executor's own (`variables` from
# the definition, `workflow`, `run`, `steps`) and the order a storefront order starts runs with.
# A caller's `variables` once replaced the definition's and sent the Slack and email steps to
# an attacker's channel and address (issue 11, finding 6). `body` is not here: it is the
# caller's own input (the webhook trigger nests its body there, and a manual run may supply one
# to try a webhook workflow, with the same `workflows:run` permission).
RESERVED_KEYS = frozenset({"variables", "workflow", "run", "steps", "order"})


def reserved_key(context: Mapping[str, Any]) -> str | None:
    """The first key of a caller's context that would shadow one the system fills."""
    return next((k for k in context if k in RESERVED_KEYS), None)


@dataclass
class WorkflowRun:
    id: UUID
    workflow_id: UUID
    trigger_type: str
    status: RunStatus
    context: dict[str, Any]
    steps: list[StepResult]
    trigger_key: str | None = None
    started_at: datetime | None = None
    finished_at: datetime | None = None
    created_at: datetime | None = None
    updated_at: datetime | None = None

    def align(self, steps: Sequence[tuple[str, str]]) -> None:
        """One result per step of the current definition, in its order (a run replayed after
        an edit keeps the results of the steps that still exist)."""
        known = {r.id: r for r in self.steps}
        self.steps = [known.get(i) or StepResult(id=i, type=t) for i, t in steps]

    @classmethod
    def queued(
        cls,
        *,
        id: UUID,
        workflow_id: UUID,
        trigger_type: str,
        trigger_key: str | None,
        context: Mapping[str, Any],
        steps: Sequence[tuple[str, str]],
        now: datetime,
    ) -> WorkflowRun:
        """A new run with one pending result per step (id, type), in definition order.

        The context (a trigger's body, a caller's JSON) is stored as JSONB, which refuses NUL:
        it is replaced as in an order's body, so both dialects store the same thing.
        """
        return cls(
            id=id,
            workflow_id=workflow_id,
            trigger_type=trigger_type,
            trigger_key=trigger_key,
            status=RunStatus.QUEUED,
            context=without_nul(dict(context)),
            steps=[StepResult(id=s, type=t) for s, t in steps],
            created_at=now,
        )

    def step(self, step_id: str) -> StepResult:
        return next(r for r in self.steps if r.id == step_id)

    def cancel(self, now: datetime) -> None:
        if self.status not in ACTIVE:
            raise DomainError(
                f"run {self.id} is {self.status.value}; only queued or running runs can be canceled"
            )
        self.status = RunStatus.CANCELED
        self.finished_at = now
        for result in self.steps:
            if result.status is StepStatus.PENDING:
                result.status = StepStatus.SKIPPED

    def outputs(self) -> dict[str, Any]:
        """Outputs of finished steps by id, for `{{steps.<id>.…}}` placeholders."""
        return {s.id: s.output for s in self.steps if s.status is StepStatus.SUCCEEDED}


def error_text(exc: BaseException) -> str:
    text = str(exc) or type(exc).__name__
    return f"{type(exc).__name__}: {text}"[:MAX_ERROR_CHARS]
