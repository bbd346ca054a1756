"""Orders in GraphQL: order, orders (a cursor connection) and orderStats; createOrder (a result
union) and markOrdersProcessed. The admin repairs of an order are in graph.repairs."""

from __future__ import annotations

from decimal import Decimal
from enum import Enum
from typing import Annotated

import strawberry
from strawberry import UNSET
from strawberry.scalars import JSON
from strawberry.types import Info

from app.orders.commands import CreateOrder, MarkOrdersProcessed, OrderRejected
from app.orders.commands import OrderAccepted as Accepted
from app.orders.commands import OrderSkipped as Skipped
from app.orders.views import StatsGroup, view_of
from domain.auth.permissions import Permission
from domain.orders.specs import Spec
from graph.arguments import given, parse_id, parse_ids
from graph.context import Context
from graph.errors import invalid_input
from graph.order_filters import OrderFilter, OrderOrder, to_sort, to_spec
from graph.pagination import PageInfo, decode_cursor, encode_cursors, page_info, page_size
from graph.permissions import requires
from graph.selections import selects
from graph.types import Order


@strawberry.type
class OrderEdge:
    cursor: str
    node: Order


@strawberry.type
class OrderConnection:
    edges: list[OrderEdge]
    page_info: PageInfo
    spec: strawberry.Private[Spec | None]

    # A count over a large filter is the most expensive part of a list: run it only when
    # the client selects it.
    @strawberry.field
    async def total_count(self, info: Info[Context, None]) -> int:
        return await info.context.orders.count_orders(self.spec)


@strawberry.enum
class OrderStatsGroup(Enum):
    BRANCH = "branch"
    STATUS = "status"
    COUNTRY = "country"
    CURRENCY = "currency"
    DAY = "day"


@strawberry.type
class OrderStatsBucket:
    key: str = strawberry.field(description="The stored value; DAY keys are UTC dates.")
    count: int
    total_amount: Decimal


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

_ONE_OF = "Give exactly one of id (the uuid) and orderId (the storefront's order id)."


async def order(
    info: Info[Context, None],
    id: Annotated[strawberry.ID | None, strawberry.argument(description=_ONE_OF)] = UNSET,
    order_id: Annotated[str | None, strawberry.argument(description=_ONE_OF)] = UNSET,
) -> Order | None:
    if given(id) == given(order_id):
        raise invalid_input("give exactly one of id and orderId", "id")
    ctx = info.context
    if given(id):
        view = await ctx.loaders.order_by_id.load(parse_id(str(id), "id"))
    else:
        view = await ctx.orders.order_by_order_id(str(order_id))
    return Order.from_view(view) if view is not None else None


async def orders(
    info: Info[Context, None],
    filter: OrderFilter | None = UNSET,
    order_by: list[OrderOrder] | None = UNSET,
    first: Annotated[
        int | None, strawberry.argument(description="Page size: 20 when omitted, at most 100.")
    ] = UNSET,
    after: Annotated[
        str | None, strawberry.argument(description="The endCursor of the previous page.")
    ] = UNSET,
) -> OrderConnection:
    ctx = info.context
    size = page_size(first, ctx.max_page_size)
    spec = to_spec(filter)
    sort = to_sort(order_by)
    keyset = decode_cursor(str(after), sort) if given(after) else None
    page = await ctx.orders.order_page(spec, sort, size, keyset)
    if page.items and selects(info, "edges", "node", "events"):
        # One batch for the page, settled before the page completes: each order's `events`
        # then reads it synchronously (graph.types.order_events).
        await ctx.loaders.events_by_order.load_many([v.id for v in page.items])
    cursors = encode_cursors(sort, page.keysets)
    edges = [
        OrderEdge(cursor=c, node=Order.from_view(v))
        for v, c in zip(page.items, cursors, strict=True)
    ]
    return OrderConnection(edges=edges, page_info=page_info(edges, page.has_next), spec=spec)


async def order_stats(
    info: Info[Context, None],
    filter: OrderFilter | None = UNSET,
    *,
    group_by: OrderStatsGroup,
) -> list[OrderStatsBucket]:
    buckets = await info.context.orders.order_stats(to_spec(filter), StatsGroup(group_by.value))
    return [
        OrderStatsBucket(key=b.key, count=b.count, total_amount=b.total_amount) for b in buckets
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
class OrderQuery:
    order: Order | None = strawberry.field(
        resolver=order, extensions=requires(Permission.ORDERS_READ)
    )
    orders: OrderConnection = strawberry.field(
        resolver=orders, extensions=requires(Permission.ORDERS_READ)
    )
    order_stats: list[OrderStatsBucket] = strawberry.field(
        resolver=order_stats, extensions=requires(Permission.ORDERS_READ)
    )


@strawberry.type
class OrderMutation:
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
