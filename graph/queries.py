"""Order queries: one order, a cursor connection of orders, and grouped order stats."""

from __future__ import annotations

from decimal import Decimal
from enum import Enum
from typing import Annotated

import strawberry
from strawberry import UNSET
from strawberry.types import Info

from app.orders.views import StatsGroup
from domain.auth.permissions import Permission
from domain.orders.specs import Spec
from graph.context import Context
from graph.errors import invalid_input
from graph.filters import (
    OrderFilter,
    OrderOrder,
    decode_cursor,
    encode_cursors,
    given,
    page_size,
    to_sort,
    to_spec,
)
from graph.ids import parse_id
from graph.permissions import protected_field
from graph.types import Order, PageInfo


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


_ONE_OF = "Give exactly one of id (the uuid) and orderId (the storefront's order id)."


@strawberry.type
class Query:
    @protected_field(Permission.ORDERS_READ)
    async def order(
        self,
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

    @protected_field(Permission.ORDERS_READ)
    async def orders(
        self,
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
        cursors = encode_cursors(sort, page.keysets)
        edges = [
            OrderEdge(cursor=c, node=Order.from_view(v))
            for v, c in zip(page.items, cursors, strict=True)
        ]
        end = edges[-1].cursor if edges else None
        return OrderConnection(
            edges=edges, page_info=PageInfo(has_next_page=page.has_next, end_cursor=end), spec=spec
        )

    @protected_field(Permission.ORDERS_READ)
    async def order_stats(
        self,
        info: Info[Context, None],
        filter: OrderFilter | None = UNSET,
        *,
        group_by: OrderStatsGroup,
    ) -> list[OrderStatsBucket]:
        buckets = await info.context.orders.order_stats(to_spec(filter), StatsGroup(group_by.value))
        return [
            OrderStatsBucket(key=b.key, count=b.count, total_amount=b.total_amount) for b in buckets
        ]
