"""Orders start workflows: a new order runs every enabled workflow whose webhook trigger is
keyed `vizi_<product country>` (the reference's Vizi routing), with the order as context.

An in-process event handler after the order's commit, not an outbox job from the order's
policy: the lookup needs the enabled workflows (cached), which a pure policy cannot read. The
cost: a crash between the order's commit and this handler loses those runs (the order itself
and its own jobs are safe); `retriggerOrder`/event replay can start them again.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from datetime import datetime
from uuid import UUID

from app.ports import UnitOfWorkFactory
from app.workflows.ports import WorkflowView
from app.workflows.runs import queue_run
from domain.orders.model import OrderCreated
from domain.workflows.model import definition_from

log = logging.getLogger("visapi.workflows")

ORDER_KEY_PREFIX = "vizi_"


def order_key(country: str) -> str:
    return f"{ORDER_KEY_PREFIX}{country.strip().lower()}"


async def start_order_workflows(
    event: OrderCreated,
    *,
    enabled: Callable[[], Awaitable[list[WorkflowView]]],
    uow: UnitOfWorkFactory,
    now: Callable[[], datetime],
    new_id: Callable[[], UUID],
) -> None:
    key = order_key(event.product_country)
    matching = [w for w in await enabled() if key in definition_from(w.definition).webhook_keys()]
    if not matching:
        return
    context = {"order": {"id": str(event.aggregate_id), **event.payload()}}
    async with uow(actor=event.actor) as unit:
        for workflow in matching:
            run = queue_run(
                unit,
                workflow,
                trigger_type="webhook",
                trigger_key=key,
                context=context,
                run_id=new_id(),
                now=now(),
                actor=event.actor,
            )
            await unit.runs.add(run)
        await unit.commit()
    log.info("order %s started %d workflow(s) keyed %s", event.order_id, len(matching), key)
