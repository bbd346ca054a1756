"""Admin repairs of an order's side effects: resyncContact, resendConfirmation, retriggerOrder.

Each queues its work through the outbox (in the transaction that decides it) and answers a
result union: the client must handle an unknown order and a refused repair.
"""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

import strawberry
from strawberry.types import Info

from app.contacts.commands import ResyncContact
from app.errors import AppError, NotFound
from app.notifications.commands import ConfirmationQueued as Queued
from app.notifications.commands import ResendConfirmation
from app.orders.commands import OrderRetriggered as Retriggered
from app.orders.commands import RetriggerOrder
from app.orders.views import view_of
from domain.auth.permissions import Permission
from domain.errors import DomainError
from graph.context import Context
from graph.permissions import requires
from graph.types import Notification, Order

PERMISSION = Permission.ORDERS_WRITE


@strawberry.type(description="No order has this id.")
class OrderNotFound:
    message: str = strawberry.field(description="Which id was not found, in words.")


@strawberry.type(description="The repair was refused; `field` names the argument at fault.")
class RepairRefused:
    message: str = strawberry.field(description="Why it was refused, in words.")
    field: str | None = strawberry.field(
        description="The argument at fault (`orderId`, `phone`, ...); null when none is."
    )


@strawberry.type(description="The contact sync is queued again; every custom field is pushed.")
class ContactResyncQueued:
    order: Order = strawberry.field(description="The order whose contact will be synced.")


@strawberry.type(description="The confirmation is queued for sending.")
class ConfirmationQueued:
    notification: Notification = strawberry.field(
        description="The confirmation to be sent, QUEUED."
    )
    created: bool = strawberry.field(
        description="False: an unsent confirmation existed; its job was queued again."
    )


@strawberry.type(description="The order's side effects are queued again (each is idempotent).")
class OrderRetriggered:
    order: Order = strawberry.field(description="The order, as stored.")
    jobs: list[str] = strawberry.field(description="The jobs queued, by actor name.")


_OUTCOMES = "; OrderNotFound for an unknown order, RepairRefused when the repair cannot be done."
ResyncContactResult = Annotated[
    ContactResyncQueued | OrderNotFound | RepairRefused,
    strawberry.union("ResyncContactResult", description=f"ContactResyncQueued{_OUTCOMES}"),
]
ResendConfirmationResult = Annotated[
    ConfirmationQueued | OrderNotFound | RepairRefused,
    strawberry.union("ResendConfirmationResult", description=f"ConfirmationQueued{_OUTCOMES}"),
]
RetriggerOrderResult = Annotated[
    OrderRetriggered | OrderNotFound | RepairRefused,
    strawberry.union("RetriggerOrderResult", description=f"OrderRetriggered{_OUTCOMES}"),
]
OrderId = Annotated[
    strawberry.ID, strawberry.argument(description="Our id of the order (Order.id).")
]


def _order_uuid(raw: strawberry.ID) -> UUID | RepairRefused:
    try:
        return UUID(str(raw))
    except ValueError:
        return RepairRefused(
            message=f"orderId: {str(raw)[:64]!r} is not a valid id", field="orderId"
        )


async def _run(info: Info[Context, None], command: Any) -> Any:
    """The handler's outcome, or the union member for the failures a client must handle."""
    try:
        return await info.context.bus.handle(command)
    except NotFound as exc:
        return OrderNotFound(message=exc.message)
    except (AppError, DomainError) as exc:
        if exc.code != "INVALID_INPUT":
            raise
        return RepairRefused(message=exc.message, field=exc.field)


async def resync_contact(info: Info[Context, None], order_id: OrderId) -> ResyncContactResult:
    ctx = info.context
    order_uuid = _order_uuid(order_id)
    if isinstance(order_uuid, RepairRefused):
        return order_uuid
    outcome = await _run(info, ResyncContact(order_uuid, ctx.actor, ctx.correlation_id))
    if isinstance(outcome, OrderNotFound | RepairRefused):
        return outcome
    return ContactResyncQueued(order=Order.from_view(view_of(outcome)))


async def resend_confirmation(
    info: Info[Context, None],
    order_id: OrderId,
    force: Annotated[
        bool,
        strawberry.argument(description="Send a new confirmation even when one was sent."),
    ] = False,
    phone: Annotated[
        str | None,
        strawberry.argument(
            description="Send to this number instead of the order's (validated; digits kept)."
        ),
    ] = None,
) -> ResendConfirmationResult:
    ctx = info.context
    order_uuid = _order_uuid(order_id)
    if isinstance(order_uuid, RepairRefused):
        return order_uuid
    command = ResendConfirmation(
        order_uuid, force=force, phone=phone, actor=ctx.actor, correlation_id=ctx.correlation_id
    )
    outcome = await _run(info, command)
    if isinstance(outcome, OrderNotFound | RepairRefused):
        return outcome
    assert isinstance(outcome, Queued)
    return ConfirmationQueued(
        notification=Notification.from_view(outcome.notification), created=outcome.created
    )


async def retrigger_order(info: Info[Context, None], order_id: OrderId) -> RetriggerOrderResult:
    ctx = info.context
    order_uuid = _order_uuid(order_id)
    if isinstance(order_uuid, RepairRefused):
        return order_uuid
    outcome = await _run(info, RetriggerOrder(order_uuid, ctx.actor, ctx.correlation_id))
    if isinstance(outcome, OrderNotFound | RepairRefused):
        return outcome
    assert isinstance(outcome, Retriggered)
    return OrderRetriggered(order=Order.from_view(view_of(outcome.order)), jobs=outcome.jobs)


@strawberry.type
class RepairMutation:
    resync_contact: ResyncContactResult | None = strawberry.mutation(
        resolver=resync_contact,
        description="Queue the order's CRM sync again, even when synced (fields are pushed).",
        extensions=requires(PERMISSION),
    )
    resend_confirmation: ResendConfirmationResult | None = strawberry.mutation(
        resolver=resend_confirmation,
        description=(
            "Queue the order confirmation. Refused once one was sent unless `force`, which"
            " sends a new one; `phone` (validated) replaces the order's number."
        ),
        extensions=requires(PERMISSION),
    )
    retrigger_order: RetriggerOrderResult | None = strawberry.mutation(
        resolver=retrigger_order,
        description="Re-run the order's side effects from its archived body (idempotent jobs).",
        extensions=requires(PERMISSION),
    )
