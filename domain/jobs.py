"""Events of the job pipeline's operations (the audit trail of what operators did to jobs)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from domain.events import DomainEvent


@dataclass(frozen=True, kw_only=True)
class FailedJobReplayed(DomainEvent):
    """A dead letter was sent again; the event causes the job (its outbox row) it names."""

    type = "failed_job.replayed"
    aggregate_type = "failed_job"

    job_actor: str
    queue: str
    arguments: dict[str, Any] = field(default_factory=dict)
