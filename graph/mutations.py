"""Order mutations: createOrder (a result union) and markOrdersProcessed."""

from __future__ import annotations

from typing import Annotated

import strawberry
from strawberry.scalars import JSON
from strawberry.types import Info

from app.orders.commands import (
    CreateOrder,
    MarkOrdersProcessed,
    OrderRejected,
)
from app.orders.commands import (
    OrderAccepted as Accepted,
)
from app.orders.commands import (
    OrderSkipped as Skipped,
)
from app.orders.views import view_of
from domain.auth.permissions import Permission
from graph.context import Context
from graph.errors import invalid_input
from graph.ids import parse_ids
from graph.permissions import requires
from graph.types import Order


@strawberry.type
class OrderAccepted:
    order: Order
    created: bool = strawberry.field(description="False when the order id was already stored.")


@strawberry.type
class OrderSkipped:
    reason: str


@strawberry.type
class InvalidOrder:
    message: str
    field: str | None


CreateOrderResult = Annotated[
    OrderAccepted | OrderSkipped | InvalidOrder, strawberry.union("CreateOrderResult")
]


async def create_order(info: Info[Context, None], payload: JSON) -> CreateOrderResult:
    ctx = info.context
    outcome = await ctx.bus.handle(
        CreateOrder(payload=payload, actor=ctx.actor, correlation_id=ctx.correlation_id)
    )
    if isinstance(outcome, Accepted):
        return OrderAccepted(order=Order.from_view(view_of(outcome.order)), created=outcome.created)
    if isinstance(outcome, Skipped):
        return OrderSkipped(reason=outcome.reason)
    assert isinstance(outcome, OrderRejected)
    return InvalidOrder(message=outcome.message, field=outcome.field)


async def mark_orders_processed(info: Info[Context, None], ids: list[strawberry.ID]) -> int:
    if not ids:
        raise invalid_input("ids must not be empty", "ids")
    ctx = info.context
    command = MarkOrdersProcessed(
        ids=tuple(parse_ids(ids, "ids")), actor=ctx.actor, correlation_id=ctx.correlation_id
    )
    return int(await ctx.bus.handle(command))


@strawberry.type
class Mutation:
    create_order: CreateOrderResult = strawberry.mutation(
        resolver=create_order,
        description="Take in one storefront body {order, form}, as the webhook gets it.",
        extensions=requires(Permission.ORDERS_WRITE),
    )
    mark_orders_processed: int = strawberry.mutation(
        resolver=mark_orders_processed,
        description="Mark orders processed (at most 1000 ids); returns how many changed.",
        extensions=requires(Permission.ORDERS_WRITE),
    )
