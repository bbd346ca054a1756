"""The orders slice: intake, archive, processing and retrigger; the cached order reads."""

from __future__ import annotations

from collections.abc import Mapping
from functools import partial

from app.jobs import JobPolicy
from app.orders.archive import ArchiveBody, archive_body
from app.orders.commands import CreateOrder, MarkOrdersProcessed, RetriggerOrder
from app.orders.handlers import create_order, mark_orders_processed
from app.orders.queries import OrderQueries
from app.orders.retrigger import retrigger_order
from app.workflows.orders import OrderWorkflows
from app.workflows.queries import WorkflowQueries
from infrastructure.db.order_reads import SqlOrderReads
from visapi.platform import Platform
from visapi.slices import Slice

# An order's own events cause no job of the orders feature: the contact sync and the
# confirmation are the contacts' and notifications' policies (their slices).
JOBS: Mapping[type, JobPolicy] = {}


def build(p: Platform, *, workflows: WorkflowQueries, jobs_for: JobPolicy) -> Slice[OrderQueries]:
    s, uow, now, new_id = p.settings, p.uow, p.now, p.new_id
    queries = OrderQueries(
        p.replaced.order_reads or SqlOrderReads(p.read_engine),
        p.cache,
        order_ttl=s.cache_order_ttl_s,
        stats_ttl=s.cache_stats_ttl_s,
        unprocessed_ttl=s.cache_unprocessed_ttl_s,
    )
    # The workflows an order starts, in the order's own transaction (create and retrigger).
    starts = OrderWorkflows(enabled=workflows.enabled, now=now, new_id=new_id).plan
    return Slice(
        queries,
        {
            CreateOrder: partial(
                create_order, uow=uow, cache=p.cache, now=now, new_id=new_id, starts=starts
            ),
            ArchiveBody: partial(archive_body, uow=uow, now=now, new_id=new_id),
            MarkOrdersProcessed: partial(mark_orders_processed, uow=uow, cache=p.cache, now=now),
            RetriggerOrder: partial(
                retrigger_order, uow=uow, now=now, jobs_for=jobs_for, starts=starts
            ),
        },
    )
