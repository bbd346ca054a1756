"""Which job a replay causes: the dead letter's actor and arguments, on the actor's queue now."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from app.jobs import Job, Queue
from domain.jobs import FailedJobReplayed


def jobs_for_failed_job_replayed(event: FailedJobReplayed) -> list[Job]:
    return [Job(event.job_actor, dict(event.arguments), Queue(event.queue))]


JOB_POLICIES: Mapping[type, Callable[[Any], list[Job]]] = {
    FailedJobReplayed: jobs_for_failed_job_replayed,
}
