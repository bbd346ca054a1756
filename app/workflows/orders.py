"""Orders start workflows: a new order runs every enabled workflow whose webhook trigger is
keyed `vizi_<product country>` (the reference's Vizi routing), with the order as context.

In the order's own transaction (DOMAIN.md "Order intake"), in two steps (`app.ports.OrderStarts`):
`plan` runs before the order's unit of work opens and looks up the matching workflows in the
cached enabled list (no query inside the transaction on a hit); the starter it returns runs
inside the unit, adds the queued runs and records their WorkflowRunQueued events, whose
`run_workflow` jobs the unit writes to the outbox. One commit holds the order, its runs and
their jobs, or none of them.

A retriggered order (OrderRetriggered) starts only the matching workflows that have no run for
it yet: runs are not idempotent (a run posts to Slack, sends mail), and the order's first runs
were committed with it. What a retrigger adds is a workflow keyed after the order arrived, or
the right one when a normalisation fix changed the order's country.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import partial
from uuid import UUID

from app.ports import StartInUnit, UnitOfWork
from app.workflows.ports import WorkflowView
from app.workflows.runs import queue_run
from domain.orders.model import Order, OrderCreated, OrderRetriggered
from domain.workflows.model import definition_from

log = logging.getLogger("visapi.workflows")

ORDER_KEY_PREFIX = "vizi_"


def order_key(country: str) -> str:
    return f"{ORDER_KEY_PREFIX}{country.strip().lower()}"


@dataclass(frozen=True)
class OrderWorkflows:
    """Bound in the orders slice (visapi/slices/orders.py); `plan` is the `OrderStarts` that
    create and retrigger order take."""

    enabled: Callable[[], Awaitable[list[WorkflowView]]]
    now: Callable[[], datetime]
    new_id: Callable[[], UUID]

    async def plan(self, order: Order) -> StartInUnit | None:
        key = order_key(order.product_country)
        matching = [
            w for w in await self.enabled() if key in definition_from(w.definition).webhook_keys()
        ]
        return partial(self._start, tuple(matching), key) if matching else None

    async def _start(
        self, workflows: Sequence[WorkflowView], key: str, unit: UnitOfWork, event: OrderCreated
    ) -> int:
        if isinstance(event, OrderRetriggered):
            # The order row is locked by the retrigger: two repairs cannot both pass this.
            done = await unit.runs.started_for_order(event.aggregate_id, [w.id for w in workflows])
            workflows = [w for w in workflows if w.id not in done]
        context = {"order": {"id": str(event.aggregate_id), **event.payload()}}
        at = self.now()
        for workflow in workflows:
            run = queue_run(
                unit,
                workflow,
                trigger_type="webhook",
                trigger_key=key,
                context=context,
                run_id=self.new_id(),
                now=at,
                actor=event.actor,
            )
            await unit.runs.add(run)
        if workflows:
            log.info("order %s starts %d workflow(s) keyed %s", event.order_id, len(workflows), key)
        return len(workflows)
