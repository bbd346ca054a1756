"""Admin repair: re-run an existing order's side effects from the body it was created from.

The archived body is parsed again with today's rules, so a fix to normalisation applies; the
order row itself is not rewritten (it is the record of what was accepted). The jobs are those
a new order causes, and every one of them is idempotent: a synced contact is not pushed
again, a sent confirmation is not sent again. Workflow runs are not idempotent, so the order's
workflows (`starts`) add a run only for a matching workflow that has none for this order yet
(app/workflows/orders.py); the order row is locked so two repairs cannot both add it.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from uuid import UUID

from app.errors import InvalidInput, NotFound
from app.jobs import JobPolicy
from app.orders.commands import OrderRetriggered as Retriggered
from app.orders.commands import RetriggerOrder
from app.ports import OrderStarts, UnitOfWork, UnitOfWorkFactory
from app.workflows.policies import RUN_WORKFLOW
from domain.errors import InvalidOrderBody
from domain.orders.intake import order_from_body
from domain.orders.model import Order, OrderRetriggered


async def retrigger_order(
    cmd: RetriggerOrder,
    *,
    uow: UnitOfWorkFactory,
    now: Callable[[], datetime],
    jobs_for: JobPolicy,
    starts: OrderStarts | None = None,
) -> Retriggered:
    async with uow(actor=cmd.actor, correlation_id=cmd.correlation_id) as unit:
        order, event, runs = await retrigger_in(
            unit, cmd.order_uuid, at=now(), actor=cmd.actor, starts=starts
        )
        await unit.commit()
    jobs = [job.actor for job in jobs_for(event)] + [RUN_WORKFLOW] * runs
    return Retriggered(order=order, jobs=jobs)


async def retrigger_in(
    unit: UnitOfWork,
    order_uuid: UUID,
    *,
    at: datetime,
    actor: str | None,
    starts: OrderStarts | None,
) -> tuple[Order, OrderRetriggered, int]:
    """The retrigger inside `unit` (the caller commits): the order, its event and how many
    workflow runs it started; NotFound or InvalidInput (naming the field) when it cannot."""
    order = await unit.orders.get(order_uuid, lock=True)
    if order is None:
        raise NotFound(f"no order {order_uuid}", field="orderId")
    body = await unit.payloads.body_of_order(order.id)
    if body is None:
        raise InvalidInput(
            f"order {order.order_id} has no archived body to re-run from", field="orderId"
        )
    try:
        again = order_from_body(body, id=order.id, now=at)
    except InvalidOrderBody as exc:
        raise InvalidInput(f"the archived body no longer parses: {exc.message}") from None
    if again.order_id != order.order_id:
        raise InvalidInput(
            f"the archived body names order {again.order_id}, not {order.order_id}",
            field="orderId",
        )
    event = OrderRetriggered(
        aggregate_id=order.id,
        occurred_at=at,
        actor=actor,
        order_id=order.order_id,
        branch=again.branch,
        product_country=again.product_country,
        is_urgent=again.is_urgent,
        phone_valid=again.phone_valid,
        whatsapp_alerts_enabled=again.whatsapp_alerts_enabled,
    )
    unit.record([event])
    # The lookup reads the cached enabled list (by now usually a hit): inside the unit here,
    # since the body to parse is only read in it.
    start_in_unit = await starts(again) if starts is not None else None
    runs = await start_in_unit(unit, event) if start_in_unit is not None else 0
    return order, event, runs
