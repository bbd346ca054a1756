"""Which job a replay causes: the dead letter's actor and arguments (on the actor's queue now,
as the registry says)."""

from __future__ import annotations

from collections.abc import Mapping

from app.jobs import Job, JobPolicy
from domain.jobs import FailedJobReplayed


def jobs_for_failed_job_replayed(event: FailedJobReplayed) -> list[Job]:
    return [Job(event.job_actor, dict(event.arguments))]


JOB_POLICIES: Mapping[type, JobPolicy] = {
    FailedJobReplayed: jobs_for_failed_job_replayed,
}
