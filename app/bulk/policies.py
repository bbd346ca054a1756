"""Which jobs bulk events cause: each due batch is one `run_bulk_batch` job on the bulk queue."""

from __future__ import annotations

from collections.abc import Mapping

from app.jobs import Job, JobPolicy
from domain.orders.bulk import BulkBatchDue

RUN_BULK_BATCH = "run_bulk_batch"


def jobs_for_batch_due(event: BulkBatchDue) -> list[Job]:
    arguments = {"operation_id": str(event.aggregate_id), "position": event.position}
    return [Job(RUN_BULK_BATCH, arguments)]


JOB_POLICIES: Mapping[type, JobPolicy] = {BulkBatchDue: jobs_for_batch_due}
