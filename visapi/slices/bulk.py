"""The bulk slice: bulk operations over the orders a filter matches, in batches on the bulk
queue (app/bulk/handlers.py)."""

from __future__ import annotations

from collections.abc import Mapping
from functools import partial

from app.bulk.commands import CancelBulkOperation, RunBulkBatch, StartBulkOperation
from app.bulk.handlers import batch_runner, cancel_bulk_operation, start_bulk_operation
from app.bulk.policies import JOB_POLICIES
from app.bulk.queries import BulkQueries
from app.jobs import JobPolicy
from app.workflows.orders import OrderWorkflows
from app.workflows.queries import WorkflowQueries
from infrastructure.db.bulk import SqlBulkReads
from visapi.platform import Platform
from visapi.slices import Slice

JOBS: Mapping[type, JobPolicy] = JOB_POLICIES


def build(p: Platform, *, workflows: WorkflowQueries) -> Slice[BulkQueries]:
    uow, now, new_id = p.uow, p.now, p.new_id
    # A retriggered order starts what a new one does (as RetriggerOrder, slices/orders.py).
    starts = OrderWorkflows(enabled=workflows.enabled, now=now, new_id=new_id).plan
    return Slice(
        BulkQueries(SqlBulkReads(p.engine)),
        {
            StartBulkOperation: partial(start_bulk_operation, uow=uow, now=now, new_id=new_id),
            RunBulkBatch: batch_runner(
                uow=uow, now=now, new_id=new_id, starts=starts, cache=p.cache
            ),
            CancelBulkOperation: partial(cancel_bulk_operation, uow=uow, now=now),
        },
    )
