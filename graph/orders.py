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
from app.orders.queries import ORDER, ORDER_STATS, ORDERS
from app.orders.views import StatsGroup, view_of
from domain.auth.permissions import Permission
from domain.orders.specs import Spec
from graph.arguments import given, parse_id, parse_ids, value_of
from graph.cache_control import cache_control
from graph.context import Context
from graph.errors import invalid_input
from graph.order_filters import OrderFilter, OrderOrder, to_sort, to_spec
from graph.pagination import (
    First,
    PageInfo,
    decode_cursor,
    encode_cursors,
    page_info,
    page_size,
)
from graph.permissions import requires
from graph.selections import selects
from graph.types import Order


@strawberry.type(description="One order of a page, with its position.")
class OrderEdge:
    cursor: str = strawberry.field(
        description="Opaque position of this order under the page's `orderBy`: pass it as"
        " `after` to continue after it (with the same `orderBy`)."
    )
    node: Order = strawberry.field(description="The order.")


@strawberry.type(description="A page of orders matching a filter, in the order asked for.")
class OrderConnection:
    edges: list[OrderEdge] = strawberry.field(description="This page's orders, in order.")
    page_info: PageInfo = strawberry.field(description="Where this page sits; how to go on.")
    spec: strawberry.Private[Spec | None]

    # A count over a large filter is the most expensive part of a list: run it only when
    # the client selects it.
    async def _total_count(self, info: Info[Context, None]) -> int:
        return await info.context.orders.count_orders(self.spec)

    total_count: int = strawberry.field(
        resolver=_total_count,
        description="Orders matching the filter, all pages together: a count in the database"
        " each time, so select it only when shown.",
        directives=cache_control(30, ORDERS),
    )


@strawberry.enum(description="What orderStats groups orders by: one bucket per value.")
class OrderStatsGroup(Enum):
    BRANCH = strawberry.enum_value("branch", description="By branch: `il`, `se`, ...")
    STATUS = strawberry.enum_value("status", description="By order status: `active`, ...")
    COUNTRY = strawberry.enum_value("country", description="By destination: `india`, ...")
    CURRENCY = strawberry.enum_value("currency", description="By currency: `ILS`, ...")
    DAY = strawberry.enum_value("day", description="By the UTC day of creation: `2026-11-28`, ...")


@strawberry.type(description="The orders sharing one value of the grouping.")
class OrderStatsBucket:
    key: str = strawberry.field(description="The stored value; DAY keys are UTC dates.")
    count: int = strawberry.field(description="Orders in the bucket.")
    total_amount: Decimal = strawberry.field(
        description="Their amounts summed as stored, whatever their currencies (group by"
        " CURRENCY for sums that mean something)."
    )


@strawberry.type(description="The order is stored (now, or before: a repeat is not an error).")
class OrderAccepted:
    order: Order = strawberry.field(description="The stored order.")
    created: bool = strawberry.field(description="False when the order id was already stored.")


@strawberry.type(description="Nothing was stored, on purpose: e.g. a test order (`-TEST` id).")
class OrderSkipped:
    reason: str = strawberry.field(description="Why it was skipped, in words.")


@strawberry.type(description="The body cannot be stored meaningfully (no order id, no amount).")
class InvalidOrder:
    message: str = strawberry.field(description="What is wrong, in words.")
    field: str | None = strawberry.field(
        description="The body's field at fault, e.g. `order.amount`; null when not one field."
    )


CreateOrderResult = Annotated[
    OrderAccepted | OrderSkipped | InvalidOrder,
    strawberry.union(
        "CreateOrderResult",
        description="Stored (OrderAccepted), skipped on purpose (OrderSkipped) or refused"
        " (InvalidOrder).",
    ),
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
    filter: Annotated[
        OrderFilter | None,
        strawberry.argument(description="Only orders matching it; all when omitted."),
    ] = UNSET,
    order_by: Annotated[
        list[OrderOrder] | None,
        strawberry.argument(
            description="Sort keys, most significant first; newest first when omitted."
        ),
    ] = UNSET,
    first: First = UNSET,
    after: Annotated[
        str | None,
        strawberry.argument(
            description="Start after this cursor (the previous page's endCursor, made under the"
            " same `orderBy`); the list's beginning when omitted."
        ),
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
    return OrderConnection(edges=edges, page_info=page_info(edges, page.has_next, after), spec=spec)


async def order_stats(
    info: Info[Context, None],
    filter: Annotated[
        OrderFilter | None,
        strawberry.argument(description="Only orders matching it; all when omitted."),
    ] = UNSET,
    *,
    group_by: Annotated[
        OrderStatsGroup, strawberry.argument(description="The value buckets are made of.")
    ],
) -> list[OrderStatsBucket]:
    buckets = await info.context.orders.order_stats(to_spec(filter), StatsGroup(value_of(group_by)))
    return [
        OrderStatsBucket(key=b.key, count=b.count, total_amount=b.total_amount) for b in buckets
    ]


async def create_order(
    info: Info[Context, None],
    payload: Annotated[
        JSON,
        strawberry.argument(
            description="The storefront's body `{order, form}` as posted to the webhook; unknown"
            " keys are kept."
        ),
    ],
) -> CreateOrderResult:
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


async def mark_orders_processed(
    info: Info[Context, None],
    ids: Annotated[
        list[strawberry.ID],
        strawberry.argument(description="Our ids (uuids) of the orders, 1 to 1000."),
    ],
) -> int:
    if not ids:
        raise invalid_input("ids must not be empty", "ids")
    ctx = info.context
    command = MarkOrdersProcessed(
        ids=tuple(parse_ids(ids, "ids")), actor=ctx.actor, correlation_id=ctx.correlation_id
    )
    return int(await ctx.bus.handle(command))


@strawberry.type
class OrderQuery:
    # Response cache: an order changes only by markOrdersProcessed (evicting `order`), and
    # one looked up by orderId may be created (evicting `orders`).
    order: Order | None = strawberry.field(
        resolver=order,
        description="One order by our id or the storefront's; null when there is none.",
        extensions=requires(Permission.ORDERS_READ),
        directives=cache_control(60, ORDER, ORDERS),
    )
    orders: OrderConnection | None = strawberry.field(
        resolver=orders,
        description="Orders matching `filter`, a page at a time, newest first unless `orderBy`.",
        extensions=requires(Permission.ORDERS_READ),
        directives=cache_control(30, ORDERS),
    )
    order_stats: list[OrderStatsBucket] | None = strawberry.field(
        resolver=order_stats,
        description="Count and summed amount of the orders matching `filter`, one bucket per"
        " `groupBy` value, by key (days in date order).",
        extensions=requires(Permission.ORDERS_READ),
        directives=cache_control(60, ORDER_STATS),
    )


@strawberry.type
class OrderMutation:
    create_order: CreateOrderResult | None = strawberry.mutation(
        resolver=create_order,
        description="Take in one storefront body {order, form}, as the webhook gets it.",
        extensions=requires(Permission.ORDERS_WRITE),
    )
    mark_orders_processed: int | None = strawberry.mutation(
        resolver=mark_orders_processed,
        description="Mark orders processed (at most 1000 ids); returns how many changed.",
        extensions=requires(Permission.ORDERS_WRITE),
    )
