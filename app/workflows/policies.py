"""Which jobs workflow events cause; written to the outbox in the event's own transaction."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from app.jobs import Job, Queue
from domain.workflows.model import WorkflowRunQueued

RUN_WORKFLOW = "run_workflow"


def jobs_for_run_queued(event: WorkflowRunQueued) -> list[Job]:
    return [Job(RUN_WORKFLOW, {"run_id": str(event.aggregate_id)}, Queue.DEFAULT)]


JOB_POLICIES: Mapping[type, Callable[[Any], list[Job]]] = {
    WorkflowRunQueued: jobs_for_run_queued,
}
