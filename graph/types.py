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


@strawberry.enum(description="The order's status as the storefront sent it (`order.status`).")
class OrderStatus(Enum):
    ACTIVE = strawberry.enum_value(
        "active", description="Sent `active`; also a status we do not know (flagged)."
    )
    COMPLETED = strawberry.enum_value("completed", description="Sent `completed`: done.")
    ISSUE = strawberry.enum_value("issue", description="Sent `issue`: something needs attention.")
    CANCELED = strawberry.enum_value("canceled", description="Sent `canceled`.")
    PENDING = strawberry.enum_value("pending", description="The storefront sent no status.")


@strawberry.enum(
    description="A message's way: QUEUED, PENDING (claimed by a sending job), SENT, DELIVERED,"
    " READ; or FAILED."
)
class NotificationStatus(Enum):
    QUEUED = strawberry.enum_value("queued", description="Waiting for its job to send it.")
    PENDING = strawberry.enum_value(
        "pending", description="Claimed by a job that is sending it now (exactly-once claim)."
    )
    SENT = strawberry.enum_value("sent", description="Accepted by the vendor (sentAt).")
    DELIVERED = strawberry.enum_value(
        "delivered", description="The vendor reported it on the phone (deliveredAt)."
    )
    READ = strawberry.enum_value("read", description="The vendor reported it read (readAt).")
    FAILED = strawberry.enum_value(
        "failed", description="Not sent for good (failedAt, failureReason); an admin may resend."
    )


@strawberry.type(description="Something odd about the input that was stored anyway.")
class OrderFlag:
    field: str = strawberry.field(
        description="The body's field at fault, as a path (e.g. `form.client.phone`)."
    )
    issue: str = strawberry.field(description="What is odd about it, in words.")


@strawberry.type(description="A domain event from the audit trail.")
class DomainEvent:
    id: strawberry.ID = strawberry.field(description="The event's id (a uuid).")
    type: str = strawberry.field(description="What happened, dotted: `order.created`, ...")
    aggregate_type: str = strawberry.field(
        description="The kind of record it happened to: `order`."
    )
    aggregate_id: strawberry.ID = strawberry.field(description="That record's id (a uuid).")
    # OrderCreated carries the whole order.
    payload: JSON | None = strawberry.field(
        description="The event's data (for `order.created`, the whole order); null when refused.",
        extensions=requires(Permission.ORDERS_READ),
    )
    actor: str | None = strawberry.field(
        description="Who caused it: `key:<prefix>` or `user:<id>` for API callers, `scheduler`,"
        " `cli`, ...; null when no caller is known (a job acting on its own)."
    )
    correlation_id: str | None = strawberry.field(
        description="The request's correlation id (X-Correlation-Id), joining it to logs and jobs."
    )
    occurred_at: datetime = strawberry.field(description="When it happened (UTC).")

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
    synced: bool = strawberry.field(description="The CRM holds the contact with every field.")
    contact_id: str | None = strawberry.field(
        description="The contact's id in the CRM; null until a sync succeeded."
    )
    created: bool | None = strawberry.field(
        description="True: the sync created the contact; false: it updated an existing one;"
        " null before the first success."
    )
    attempts: int = strawberry.field(description="Sync attempts so far, retries included.")
    error_count: int = strawberry.field(description="Attempts that failed.")
    last_error_category: str | None = strawberry.field(
        description="The last failure's kind: `timeout`, `network`, `auth`, `rate_limit`,"
        " `validation` or `vendor_error`; null without one."
    )
    # The CRM's answer may echo the contact.
    last_error: str | None = strawberry.field(
        description="The last failure's message; null without one, or when refused.",
        extensions=requires(Permission.ORDERS_READ),
    )
    last_attempt_at: datetime | None = strawberry.field(
        description="When the last attempt ran (UTC); null before the first."
    )

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
    id: strawberry.ID = strawberry.field(description="The notification's id (a uuid).")
    kind: str = strawberry.field(
        description="What it tells: `order_confirmation`, `visa_approval`, ..."
    )
    item: str = strawberry.field(
        description='"" for the first message of its kind; `resend-<n>` for an admin resend.'
    )
    status: NotificationStatus = strawberry.field(description="Where the message stands.")
    template: str = strawberry.field(
        description="The vendor's WhatsApp template, e.g. `order_confirmation_global`."
    )
    language: str = strawberry.field(description="The template's language: `he`, `en`, ...")
    phone: str | None = strawberry.field(
        description="The number it goes to, digits only with the country code; null when refused.",
        extensions=requires(Permission.ORDERS_READ),
    )
    provider_message_id: str | None = strawberry.field(
        description="The vendor's id of the message, once sent; delivery reports match on it."
    )
    sent_at: datetime | None = strawberry.field(description="When the vendor accepted it (UTC).")
    delivered_at: datetime | None = strawberry.field(
        description="When the vendor reported it delivered (UTC)."
    )
    read_at: datetime | None = strawberry.field(description="When it was reported read (UTC).")
    failed_at: datetime | None = strawberry.field(description="When it failed for good (UTC).")
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
    id: strawberry.ID = strawberry.field(description="Our id of the order (a uuid).")
    order_id: str = strawberry.field(
        description="The storefront's order id, unique, e.g. `IL250819GB16`."
    )
    branch: str = strawberry.field(
        description="The selling branch, lowercase: `il`, `se`, `co`, `ru` or `kz`."
    )
    order_status: OrderStatus = strawberry.field(description="The storefront's status.")
    amount: Decimal = strawberry.field(description='The amount paid, in `currency`: "165.00".')
    currency: str = strawberry.field(description="ISO 4217 code of `amount`: `ILS`, `USD`, ...")
    client_name: str | None = strawberry.field(
        description="The customer's name as entered; null when refused.",
        extensions=requires(Permission.ORDERS_READ),
    )
    client_email: str | None = strawberry.field(
        description="The customer's email; null when none was given, or when refused.",
        extensions=requires(Permission.ORDERS_READ),
    )
    client_phone: str | None = strawberry.field(
        description="The customer's phone, digits only with the country code (`972541112233`);"
        " null when none was given, or when refused.",
        extensions=requires(Permission.ORDERS_READ),
    )
    phone_valid: bool = strawberry.field(
        description="The phone is a real number (libphonenumber); WhatsApp goes to valid ones only."
    )
    whatsapp_alerts_enabled: bool = strawberry.field(
        description="The customer agreed to WhatsApp messages about the order."
    )
    product_country: str = strawberry.field(
        description="The destination, lowercase: `uk`, `india`, `usa`, ..."
    )
    product_doc_type: str | None = strawberry.field(
        description="The document sold: `eta`, `evisa`, `esta`, ...; null when not given."
    )
    visa_entries: str | None = strawberry.field(
        description="Entries the visa allows: `single` or `multiple`; null when not given."
    )
    visa_document_validity_days: int | None = strawberry.field(
        description="How long the visa is valid, in days (`2_years`: 730); null when unknown."
    )
    processing_days: int = strawberry.field(
        description="Promised processing time in days: 1 when urgent, else the product's wait"
        " (by default 3; Morocco 5, Vietnam 7)."
    )
    is_urgent: bool = strawberry.field(description="Urgent processing (express, rush, ...) bought.")
    visa_quantity: int = strawberry.field(description="Applicants (visas) in the order.")
    entry_date: datetime | None = strawberry.field(
        description="The planned date of entry (UTC midnight); null when not given."
    )
    flags: list[OrderFlag] = strawberry.field(
        description="Odd input stored anyway, one entry per field; empty for a clean order."
    )
    created_at: datetime = strawberry.field(description="When the order was stored (UTC).")
    processed_at: datetime | None = strawberry.field(
        description="When it was marked processed (markOrdersProcessed, UTC); null until then."
    )
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
        resolver=order_events,
        description="The order's audit trail, oldest first.",
        extensions=requires(Permission.ORDERS_READ),
    )
    contact_sync: ContactSync | None = strawberry.field(
        resolver=order_contact_sync,
        description="The customer's contact in the CRM and how syncing it went; null before the"
        " first sync attempt (only `il` orders are synced).",
        extensions=requires(Permission.ORDERS_READ),
    )
    notifications: list[Notification] = strawberry.field(
        resolver=order_notifications,
        description="WhatsApp messages about the order, oldest first.",
        extensions=requires(Permission.ORDERS_READ),
    )
