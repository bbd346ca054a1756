"""The Order aggregate: one storefront order as VisAPI stores it, and the events it records."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any
from uuid import UUID

from domain.events import DomainEvent

BRANCHES = frozenset({"il", "se", "co", "ru", "kz"})


class OrderStatus(StrEnum):
    ACTIVE = "active"
    COMPLETED = "completed"
    ISSUE = "issue"
    CANCELED = "canceled"
    PENDING = "pending"


@dataclass(frozen=True)
class OrderFlag:
    """Something odd about the input that was stored anyway (e.g. an invalid phone)."""

    field: str
    issue: str


@dataclass(frozen=True, kw_only=True)
class OrderCreated(DomainEvent):
    type = "order.created"
    aggregate_type = "order"

    order_id: str
    branch: str
    product_country: str
    is_urgent: bool
    phone_valid: bool
    whatsapp_alerts_enabled: bool


@dataclass(frozen=True, kw_only=True)
class OrdersProcessed(DomainEvent):
    """Recorded once per batch by `markOrdersProcessed`; aggregate_id is the first order's id."""

    type = "orders.processed"
    aggregate_type = "order"

    ids: list[str]


@dataclass(kw_only=True)
class Order:
    """A paid storefront order. Fields mirror the `orders` table; JSON buckets keep the rest."""

    id: UUID
    order_id: str
    form_id: str | None
    branch: str
    domain: str | None
    payment_processor: str | None
    payment_id: str | None
    amount: Decimal
    currency: str
    order_status: OrderStatus
    client_name: str
    client_email: str | None
    client_phone: str | None
    phone_valid: bool
    whatsapp_alerts_enabled: bool
    product_country: str
    product_doc_type: str | None
    product_doc_name: str | None
    product_intent: str | None
    visa_entries: str | None
    product_validity: str | None
    visa_document_validity_days: int | None
    processing_days: int
    is_urgent: bool
    visa_quantity: int
    entry_date: datetime | None
    product_data: dict[str, Any]
    applicants_data: list[Any]
    extra_data: dict[str, Any]
    flags: list[OrderFlag]
    webhook_received_at: datetime
    processed_at: datetime | None
    created_at: datetime
    updated_at: datetime
    events: list[DomainEvent] = field(default_factory=list, repr=False, compare=False)

    @property
    def is_test(self) -> bool:
        return is_test_order_id(self.order_id)

    def record_created(self, actor: str | None = None) -> None:
        """Record the creation fact; called once when a new order is accepted."""
        self.events.append(
            OrderCreated(
                aggregate_id=self.id,
                occurred_at=self.created_at,
                actor=actor,
                order_id=self.order_id,
                branch=self.branch,
                product_country=self.product_country,
                is_urgent=self.is_urgent,
                phone_valid=self.phone_valid,
                whatsapp_alerts_enabled=self.whatsapp_alerts_enabled,
            )
        )


def is_test_order_id(order_id: str) -> bool:
    """Storefront test orders end in `-TEST`: answered `skipped`, never stored as orders."""
    return order_id.upper().endswith("-TEST")


@dataclass(frozen=True, kw_only=True)
class OrderRetriggered(OrderCreated):
    """An admin re-ran an order's side effects from its archived body. A subclass of
    OrderCreated so it causes exactly the jobs a new order causes (all of them idempotent)."""

    type = "order.retriggered"
