"""GraphQL object types of orders: Order and the records around it, mapped from read models.

Personal data (graph.personal lists it) needs `orders:read` wherever the type is reached, even
through a mutation (createOrder's result): a write-only key never reads who a customer is. So
those fields are nullable, and a refused one leaves the rest of the answer intact.
"""

from __future__ import annotations

from collections.abc import Awaitable
from datetime import datetime
from decimal import Decimal
from enum import Enum
from uuid import UUID

import strawberry
from strawberry.scalars import JSON
from strawberry.types import Info

from app.orders.side_views import ContactSyncView, NotificationView
from app.orders.views import EventView, OrderView
from domain.auth.permissions import Permission
from graph.context import Context
from graph.permissions import requires


@strawberry.enum
class OrderStatus(Enum):
    ACTIVE = "active"
    COMPLETED = "completed"
    ISSUE = "issue"
    CANCELED = "canceled"
    PENDING = "pending"


@strawberry.enum
class NotificationStatus(Enum):
    QUEUED = "queued"
    PENDING = "pending"
    SENT = "sent"
    DELIVERED = "delivered"
    READ = "read"
    FAILED = "failed"


@strawberry.type(description="Something odd about the input that was stored anyway.")
class OrderFlag:
    field: str
    issue: str


@strawberry.type(description="A domain event from the audit trail.")
class DomainEvent:
    id: strawberry.ID
    type: str
    aggregate_type: str
    aggregate_id: strawberry.ID
    # OrderCreated carries the whole order.
    payload: JSON | None = strawberry.field(extensions=requires(Permission.ORDERS_READ))
    actor: str | None
    correlation_id: str | None
    occurred_at: datetime

    @classmethod
    def from_view(cls, v: EventView) -> DomainEvent:
        return cls(
            id=strawberry.ID(str(v.id)),
            type=v.type,
            aggregate_type=v.aggregate_type,
            aggregate_id=strawberry.ID(str(v.aggregate_id)),
            payload=JSON(v.payload),
            actor=v.actor,
            correlation_id=v.correlation_id,
            occurred_at=v.occurred_at,
        )


@strawberry.type(description="The order's contact in the CRM and how syncing it went.")
class ContactSync:
    synced: bool
    contact_id: str | None
    created: bool | None
    attempts: int
    error_count: int
    last_error_category: str | None
    # The CRM's answer may echo the contact.
    last_error: str | None = strawberry.field(extensions=requires(Permission.ORDERS_READ))
    last_attempt_at: datetime | None

    @classmethod
    def from_view(cls, v: ContactSyncView) -> ContactSync:
        return cls(
            synced=v.synced,
            contact_id=v.contact_id,
            created=v.created,
            attempts=v.attempts,
            error_count=v.error_count,
            last_error_category=v.last_error_category,
            last_error=v.last_error,
            last_attempt_at=v.last_attempt_at,
        )


@strawberry.type(description="A WhatsApp message about the order and its delivery status.")
class Notification:
    id: strawberry.ID
    kind: str
    item: str = strawberry.field(
        description='"" for the first message of its kind; `resend-<n>` for an admin resend.'
    )
    status: NotificationStatus
    template: str
    language: str
    phone: str | None = strawberry.field(extensions=requires(Permission.ORDERS_READ))
    provider_message_id: str | None
    sent_at: datetime | None
    delivered_at: datetime | None
    read_at: datetime | None
    failed_at: datetime | None
    # The vendor's reason may name the number.
    failure_reason: str | None = strawberry.field(
        description="Why it failed; while QUEUED again, why the last attempt did not send.",
        extensions=requires(Permission.ORDERS_READ),
    )
    attempts: int = strawberry.field(description="Send attempts (claims taken) so far.")

    @classmethod
    def from_view(cls, v: NotificationView) -> Notification:
        return cls(
            id=strawberry.ID(str(v.id)),
            kind=v.kind,
            item=v.item,
            status=NotificationStatus(v.status),
            template=v.template,
            language=v.language,
            phone=v.phone,
            provider_message_id=v.provider_message_id,
            sent_at=v.sent_at,
            delivered_at=v.delivered_at,
            read_at=v.read_at,
            failed_at=v.failed_at,
            failure_reason=v.failure_reason,
            attempts=v.attempts,
        )


def order_events(root: strawberry.Parent[Order], info: Info[Context, None]) -> list[DomainEvent]:
    # Synchronous when the page has loaded the events (graph.orders does, for a page that
    # selects them): no coroutine, task and await per order. Else an awaitable, which
    # graphql-core awaits like an async resolver's answer.
    loaders = info.context.loaders
    views = loaders.events_loaded(root.uuid)
    if views is None:
        return _events_later(loaders.events_by_order.load(root.uuid))  # type: ignore[return-value]
    return [DomainEvent.from_view(v) for v in views]


async def _events_later(views: Awaitable[list[EventView]]) -> list[DomainEvent]:
    return [DomainEvent.from_view(v) for v in await views]


async def order_contact_sync(
    root: strawberry.Parent[Order], info: Info[Context, None]
) -> ContactSync | None:
    view = await info.context.loaders.contact_sync_by_order.load(root.uuid)
    return ContactSync.from_view(view) if view is not None else None


async def order_notifications(
    root: strawberry.Parent[Order], info: Info[Context, None]
) -> list[Notification]:
    views = await info.context.loaders.notifications_by_order.load(root.uuid)
    return [Notification.from_view(v) for v in views]


@strawberry.type(description="A paid storefront order.")
class Order:
    id: strawberry.ID
    order_id: str
    branch: str
    order_status: OrderStatus
    amount: Decimal
    currency: str
    client_name: str | None = strawberry.field(extensions=requires(Permission.ORDERS_READ))
    client_email: str | None = strawberry.field(extensions=requires(Permission.ORDERS_READ))
    client_phone: str | None = strawberry.field(extensions=requires(Permission.ORDERS_READ))
    phone_valid: bool
    whatsapp_alerts_enabled: bool
    product_country: str
    product_doc_type: str | None
    visa_entries: str | None
    visa_document_validity_days: int | None
    processing_days: int
    is_urgent: bool
    visa_quantity: int
    entry_date: datetime | None
    flags: list[OrderFlag]
    created_at: datetime
    processed_at: datetime | None
    uuid: strawberry.Private[UUID]

    @classmethod
    def from_view(cls, v: OrderView) -> Order:
        return cls(
            id=strawberry.ID(str(v.id)),
            order_id=v.order_id,
            branch=v.branch,
            order_status=OrderStatus(v.order_status),
            amount=v.amount,
            currency=v.currency,
            client_name=v.client_name,
            client_email=v.client_email,
            client_phone=v.client_phone,
            phone_valid=v.phone_valid,
            whatsapp_alerts_enabled=v.whatsapp_alerts_enabled,
            product_country=v.product_country,
            product_doc_type=v.product_doc_type,
            visa_entries=v.visa_entries,
            visa_document_validity_days=v.visa_document_validity_days,
            processing_days=v.processing_days,
            is_urgent=v.is_urgent,
            visa_quantity=v.visa_quantity,
            entry_date=v.entry_date,
            flags=[OrderFlag(field=f.field, issue=f.issue) for f in v.flags],
            created_at=v.created_at,
            processed_at=v.processed_at,
            uuid=v.id,
        )

    # Children come through this request's DataLoaders: one query per list, not per order.
    events: list[DomainEvent] = strawberry.field(
        resolver=order_events, extensions=requires(Permission.ORDERS_READ)
    )
    contact_sync: ContactSync | None = strawberry.field(
        resolver=order_contact_sync, extensions=requires(Permission.ORDERS_READ)
    )
    notifications: list[Notification] = strawberry.field(
        resolver=order_notifications, extensions=requires(Permission.ORDERS_READ)
    )
