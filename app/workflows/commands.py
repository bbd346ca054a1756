"""Workflow commands: definition changes, starting, executing and canceling runs."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any
from uuid import UUID


@dataclass(frozen=True)
class CreateWorkflow:
    definition: Any
    actor: str | None = None
    correlation_id: str | None = None


@dataclass(frozen=True)
class UpdateWorkflow:
    id: UUID
    definition: Any
    actor: str | None = None
    correlation_id: str | None = None


@dataclass(frozen=True)
class SetWorkflowEnabled:
    id: UUID
    enabled: bool
    actor: str | None = None
    correlation_id: str | None = None


@dataclass(frozen=True)
class DeleteWorkflow:
    id: UUID
    actor: str | None = None
    correlation_id: str | None = None


@dataclass(frozen=True)
class StartRun:
    """Queue a run of a workflow by one of its triggers (`manual` from `runWorkflow`)."""

    workflow_id: UUID
    trigger_type: str
    context: dict[str, Any] = field(default_factory=dict)
    trigger_key: str | None = None
    actor: str | None = None
    correlation_id: str | None = None


@dataclass(frozen=True)
class TriggerWebhook:
    """`POST /api/v1/triggers/{key}`: start the enabled workflow owning the webhook key."""

    key: str
    body: Any
    idempotency_key: str
    request_hash: str
    actor: str | None = None
    correlation_id: str | None = None


@dataclass(frozen=True)
class ExecuteRun:
    """The `run_workflow` job: run (or resume) the steps of a queued run."""

    run_id: UUID


@dataclass(frozen=True)
class CancelRun:
    id: UUID
    actor: str | None = None
    correlation_id: str | None = None


@dataclass(frozen=True)
class FireCronTriggers:
    """Queue the cron-triggered runs due now (one scheduler tick); answers how many it queued."""

    claimer: str  # the scheduler's name, kept on each claimed tick
