"""Bulk operations in GraphQL: the *Where mutations that start one over a filter, cancel, and the
reads (bulkOperation, bulkOperations). Progress is also pushed by the bulkOperation
subscription (graph.live)."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from enum import Enum
from typing import Annotated, Any

import strawberry
from strawberry.types import Info

from app.bulk.commands import CancelBulkOperation, StartBulkOperation
from app.bulk.ports import BulkOperationView
from domain.auth.permissions import Permission
from domain.orders.bulk import BATCH
from domain.orders.bulk import BulkKind as Kind
from domain.orders.bulk import BulkStatus as Status
from graph.arguments import given, parse_id
from graph.context import Context
from graph.order_filters import OrderFilter, to_spec
from graph.pagination import AfterCursor, First, PageInfo, after_of, cursor, page_info, page_size
from graph.permissions import requires
from graph.scalars import JSON


@strawberry.enum(description="What a bulk operation does to each order.")
class BulkOperationKind(Enum):
    MARK_PROCESSED = strawberry.enum_value(
        Kind.MARK_PROCESSED.value, description="Sets processedAt (markOrdersProcessedWhere)."
    )
    RESYNC_CONTACTS = strawberry.enum_value(
        Kind.RESYNC_CONTACTS.value, description="Queues a contact sync (resyncContactsWhere)."
    )
    RESEND_CONFIRMATIONS = strawberry.enum_value(
        Kind.RESEND_CONFIRMATIONS.value,
        description="Queues the confirmation again (resendConfirmationsWhere).",
    )
    RETRIGGER_ORDERS = strawberry.enum_value(
        Kind.RETRIGGER_ORDERS.value,
        description="Re-runs the order's side effects from its body (retriggerOrdersWhere).",
    )
    ERASE_CUSTOMER = strawberry.enum_value(
        Kind.ERASE_CUSTOMER.value,
        description="Replaces a person's personal data with markers (eraseCustomerData).",
    )


@strawberry.enum(description="Where a bulk operation stands.")
class BulkOperationStatus(Enum):
    RUNNING = strawberry.enum_value(Status.RUNNING.value, description="Batches are left to run.")
    FINISHED = strawberry.enum_value(Status.FINISHED.value, description="Every order was done.")
    CANCELED = strawberry.enum_value(
        Status.CANCELED.value, description="Stopped by cancelBulkOperation before its end."
    )


@strawberry.type(description="An order a bulk operation could not do, and why.")
class BulkFailure:
    order: strawberry.ID = strawberry.field(description="The order's id (Order.id).")
    message: str = strawberry.field(description="Why, in words.")


@strawberry.type(
    description="One repair or update over the orders a filter matched when it started, run"
    f" in batches of {BATCH} on the bulk queue."
)
class BulkOperation:
    id: strawberry.ID = strawberry.field(description="The operation's id (a uuid).")
    kind: BulkOperationKind = strawberry.field(description="What it does to each order.")
    filter: JSON | None = strawberry.field(description="The filter it was started with.")
    force: bool = strawberry.field(description="resendConfirmationsWhere's force.")
    status: BulkOperationStatus = strawberry.field(description="Where it stands.")
    total: int = strawberry.field(description="Orders the filter matched when it started.")
    done: int = strawberry.field(description="Orders done so far.")
    failed: int = strawberry.field(description="Orders it could not do (see failures).")
    failures: list[BulkFailure] = strawberry.field(
        description="The first 20 orders it could not do, with the reasons."
    )
    actor: str | None = strawberry.field(description="Who started it (`key:<prefix>`...).")
    started_at: datetime | None = strawberry.field(description="When it started.")
    finished_at: datetime | None = strawberry.field(
        description="When it finished or was canceled; null while it runs."
    )

    @classmethod
    def of(cls, v: BulkOperationView) -> BulkOperation:
        return cls(
            id=strawberry.ID(str(v.id)),
            kind=BulkOperationKind(v.kind.value),
            filter=v.filter,
            force=v.force,
            status=BulkOperationStatus(v.status.value),
            total=v.total,
            done=v.done,
            failed=v.failed,
            failures=[
                BulkFailure(order=strawberry.ID(str(f.order_id)), message=f.message)
                for f in v.failures
            ],
            actor=v.actor,
            started_at=v.created_at,
            finished_at=v.finished_at,
        )


@strawberry.type(description="One bulk operation of a page, with its position.")
class BulkOperationEdge:
    cursor: str = strawberry.field(description="Opaque position: pass it as `after`.")
    node: BulkOperation = strawberry.field(description="The operation.")


@strawberry.type(description="A page of bulk operations, newest first.")
class BulkOperationConnection:
    edges: list[BulkOperationEdge] = strawberry.field(description="This page's operations.")
    page_info: PageInfo = strawberry.field(description="Where this page stands.")


def filter_json(value: Any) -> Any:
    """The filter as the caller gave it, by its GraphQL names, to show it back."""
    if isinstance(value, OrderFilter):
        fields = strawberry.types.base.get_object_definition(OrderFilter, strict=True).fields
        return {
            f.graphql_name or _camel(f.python_name): filter_json(getattr(value, f.python_name))
            for f in fields
            if given(getattr(value, f.python_name))
        }
    if isinstance(value, list):
        return [filter_json(v) for v in value]
    if isinstance(value, Enum):
        return value.name
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    return value


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)


Filter = Annotated[
    OrderFilter,
    strawberry.argument(
        description="The orders to do (the `orders` filter); fixed when the operation starts."
    ),
]


async def _start(
    info: Info[Context, None], kind: Kind, filter: OrderFilter, force: bool = False
) -> BulkOperation:
    ctx = info.context
    command = StartBulkOperation(
        kind=kind,
        spec=to_spec(filter),
        filter=filter_json(filter),
        force=force,
        actor=ctx.actor,
        correlation_id=ctx.correlation_id,
    )
    return BulkOperation.of(await ctx.bus.handle(command))


async def mark_orders_processed_where(info: Info[Context, None], filter: Filter) -> BulkOperation:
    return await _start(info, Kind.MARK_PROCESSED, filter)


async def resync_contacts_where(info: Info[Context, None], filter: Filter) -> BulkOperation:
    return await _start(info, Kind.RESYNC_CONTACTS, filter)


async def resend_confirmations_where(
    info: Info[Context, None],
    filter: Filter,
    force: Annotated[
        bool,
        strawberry.argument(
            description="Send even where one was sent or the customer turned alerts off."
        ),
    ] = False,
) -> BulkOperation:
    return await _start(info, Kind.RESEND_CONFIRMATIONS, filter, force)


async def retrigger_orders_where(info: Info[Context, None], filter: Filter) -> BulkOperation:
    return await _start(info, Kind.RETRIGGER_ORDERS, filter)


Id = Annotated[strawberry.ID, strawberry.argument(description="The operation (BulkOperation.id).")]


async def cancel_bulk_operation(info: Info[Context, None], id: Id) -> BulkOperation:
    ctx = info.context
    command = CancelBulkOperation(parse_id(str(id), "id"), ctx.actor, ctx.correlation_id)
    return BulkOperation.of(await ctx.bus.handle(command))


async def bulk_operation(info: Info[Context, None], id: Id) -> BulkOperation | None:
    found = await info.context.services.bulk.operation(parse_id(str(id), "id"))
    return BulkOperation.of(found) if found is not None else None


async def bulk_operations(
    info: Info[Context, None],
    first: First = strawberry.UNSET,
    after: AfterCursor = strawberry.UNSET,
) -> BulkOperationConnection:
    size = page_size(first, info.context.max_page_size)
    rows, more = await info.context.services.bulk.page(size, after_of(after))
    edges = [
        BulkOperationEdge(cursor=cursor(v.created_at, v.id), node=BulkOperation.of(v))  # type: ignore[arg-type]
        for v in rows
    ]
    return BulkOperationConnection(edges=edges, page_info=page_info(edges, more, after))


@strawberry.type
class BulkQuery:
    bulk_operation: BulkOperation | None = strawberry.field(
        resolver=bulk_operation,
        description="One bulk operation, with its progress; null when there is none.",
        extensions=requires(Permission.ORDERS_READ),
    )
    bulk_operations: BulkOperationConnection | None = strawberry.field(
        resolver=bulk_operations,
        description="Bulk operations, newest first.",
        extensions=requires(Permission.ORDERS_READ),
    )


@strawberry.type
class BulkMutation:
    mark_orders_processed_where: BulkOperation | None = strawberry.mutation(
        resolver=mark_orders_processed_where,
        description="Mark every matching order processed, in the background (see"
        " markOrdersProcessed for a list of ids).",
        extensions=requires(Permission.ORDERS_WRITE),
    )
    resync_contacts_where: BulkOperation | None = strawberry.mutation(
        resolver=resync_contacts_where,
        description="Sync every matching order's contact to the CRM again, in the background.",
        extensions=requires(Permission.ORDERS_WRITE),
    )
    resend_confirmations_where: BulkOperation | None = strawberry.mutation(
        resolver=resend_confirmations_where,
        description="Queue every matching order's confirmation again, in the background;"
        " orders it must not be sent to are counted as failed, with the reason.",
        extensions=requires(Permission.ORDERS_WRITE),
    )
    retrigger_orders_where: BulkOperation | None = strawberry.mutation(
        resolver=retrigger_orders_where,
        description="Re-run every matching order's side effects from its body, in the"
        " background (the reference's bulk retrigger by date range: createdFrom/createdTo).",
        extensions=requires(Permission.ORDERS_WRITE),
    )
    cancel_bulk_operation: BulkOperation | None = strawberry.mutation(
        resolver=cancel_bulk_operation,
        description="Stop a running bulk operation before its next batch (a finished or"
        " canceled one is answered as it is).",
        extensions=requires(Permission.ORDERS_WRITE),
    )
