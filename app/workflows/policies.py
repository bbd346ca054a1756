"""Which jobs workflow events cause; written to the outbox in the event's own transaction."""

from __future__ import annotations

from typing import Any

from app.jobs import Job, Queue
from domain.workflows.model import WorkflowRunQueued

RUN_WORKFLOW = "run_workflow"


def jobs_for(event: Any) -> list[Job]:
    if isinstance(event, WorkflowRunQueued):
        return [Job(RUN_WORKFLOW, {"run_id": str(event.aggregate_id)}, Queue.DEFAULT)]
    return []
