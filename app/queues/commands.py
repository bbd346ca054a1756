"""Queue commands (replays of dead letters) and the outcomes their handlers return."""

from __future__ import annotations

from dataclasses import dataclass
from uuid import UUID

from app.queues.ports import FailedJobFilter, FailedJobView


@dataclass(frozen=True)
class ReplayFailedJob:
    id: UUID
    actor: str | None = None
    correlation_id: str | None = None


@dataclass(frozen=True)
class ReplayFailedJobs:
    """Replay up to `limit` unreplayed dead letters matching `where`, oldest first."""

    where: FailedJobFilter
    limit: int = 100
    actor: str | None = None
    correlation_id: str | None = None


@dataclass(frozen=True)
class JobReplayed:
    failed_job: FailedJobView


@dataclass(frozen=True)
class AlreadyReplayed:
    failed_job: FailedJobView


@dataclass(frozen=True)
class ActorUnknown:
    """The dead letter names an actor no longer in the registry: nothing would consume it."""

    failed_job: FailedJobView


ReplayOutcome = JobReplayed | AlreadyReplayed | ActorUnknown


@dataclass(frozen=True)
class JobsReplayed:
    replayed: list[FailedJobView]
    # Actors of matching dead letters left alone because no worker knows them.
    unknown_actors: list[str]
    has_more: bool
