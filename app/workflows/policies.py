"""Which jobs workflow events cause; written to the outbox in the event's own transaction."""

from __future__ import annotations

from collections.abc import Mapping

from app.jobs import Job, JobPolicy
from domain.workflows.model import WorkflowRunQueued

RUN_WORKFLOW = "run_workflow"


def jobs_for_run_queued(event: WorkflowRunQueued) -> list[Job]:
    return [Job(RUN_WORKFLOW, {"run_id": str(event.aggregate_id)})]


JOB_POLICIES: Mapping[type, JobPolicy] = {
    WorkflowRunQueued: jobs_for_run_queued,
}
