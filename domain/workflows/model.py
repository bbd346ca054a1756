"""A workflow: its parsed definition, triggers and steps, and the events of its changes."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar

from domain.events import DomainEvent
from domain.workflows.schema import DEFAULT_RETRIES, DEFAULT_TIMEOUT_S

DEFAULT_TIMEZONE = "UTC"


@dataclass(frozen=True)
class Trigger:
    type: str  # webhook | cron | manual
    key: str | None = None  # webhook
    schedule: str | None = None  # cron, 5 fields
    timezone: str = DEFAULT_TIMEZONE  # cron


@dataclass(frozen=True)
class Step:
    id: str
    type: str
    config: Mapping[str, Any]
    retries: int = DEFAULT_RETRIES
    timeout_s: int = DEFAULT_TIMEOUT_S


@dataclass(frozen=True)
class Definition:
    name: str
    triggers: tuple[Trigger, ...]
    steps: tuple[Step, ...]
    description: str | None = None
    enabled: bool = True
    variables: Mapping[str, Any] = field(default_factory=dict)

    def webhook_keys(self) -> list[str]:
        return [t.key for t in self.triggers if t.type == "webhook" and t.key]

    def has_trigger(self, kind: str) -> bool:
        return any(t.type == kind for t in self.triggers)


def definition_from(raw: Mapping[str, Any]) -> Definition:
    """The Definition of a document `rules.check` accepted (defaults filled in)."""
    triggers = tuple(
        Trigger(
            type=t["type"],
            key=(t.get("config") or {}).get("key"),
            schedule=(t.get("config") or {}).get("schedule"),
            timezone=(t.get("config") or {}).get("timezone") or DEFAULT_TIMEZONE,
        )
        for t in raw["triggers"]
    )
    steps = tuple(
        Step(
            id=s["id"],
            type=s["type"],
            config=dict(s.get("config") or {}),
            retries=s.get("retries", DEFAULT_RETRIES),
            timeout_s=s.get("timeout", DEFAULT_TIMEOUT_S),
        )
        for s in raw["steps"]
    )
    return Definition(
        name=raw["name"],
        description=raw.get("description"),
        enabled=raw.get("enabled", True),
        variables=dict(raw.get("variables") or {}),
        triggers=triggers,
        steps=steps,
    )


@dataclass(frozen=True, kw_only=True)
class WorkflowChanged(DomainEvent):
    """Created, updated, enabled/disabled or deleted: `change` says which (the audit trail)."""

    type: ClassVar[str] = "workflow.changed"
    aggregate_type: ClassVar[str] = "workflow"
    change: str
    name: str
    enabled: bool


@dataclass(frozen=True, kw_only=True)
class WorkflowRunQueued(DomainEvent):
    """A run was created; its job (`run_workflow`) is written to the outbox with it."""

    type: ClassVar[str] = "workflow.run_queued"
    aggregate_type: ClassVar[str] = "workflow_run"
    workflow_id: str
    trigger_type: str
    trigger_key: str | None = None


@dataclass(frozen=True, kw_only=True)
class WorkflowRunCanceled(DomainEvent):
    type: ClassVar[str] = "workflow.run_canceled"
    aggregate_type: ClassVar[str] = "workflow_run"
    workflow_id: str
