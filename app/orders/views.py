"""Read models of the order query side: what GraphQL shows, decoupled from the write entity."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any
from uuid import UUID

from domain.orders.model import Order


@dataclass(frozen=True, slots=True)
class FlagView:
    field: str
    issue: str


@dataclass(frozen=True, slots=True)
class OrderView:
    id: UUID
    order_id: str
    branch: str
    order_status: str
    amount: Decimal
    currency: str
    client_name: str
    client_email: str | None
    client_phone: str | None
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
    flags: list[FlagView]
    created_at: datetime
    processed_at: datetime | None


@dataclass(frozen=True, slots=True)
class EventView:
    id: UUID
    type: str
    aggregate_type: str
    aggregate_id: UUID
    payload: dict[str, Any]
    actor: str | None
    correlation_id: str | None
    occurred_at: datetime


class StatsGroup(StrEnum):
    BRANCH = "branch"
    STATUS = "status"
    COUNTRY = "country"
    CURRENCY = "currency"
    DAY = "day"


@dataclass(frozen=True, slots=True)
class StatsBucket:
    key: str
    count: int
    total_amount: Decimal


class SortField(StrEnum):
    CREATED_AT = "created_at"
    AMOUNT = "amount"
    ORDER_ID = "order_id"


@dataclass(frozen=True, slots=True)
class Sort:
    field: SortField
    descending: bool


DEFAULT_SORT = (Sort(SortField.CREATED_AT, descending=True),)


@dataclass(frozen=True, slots=True)
class Keyset:
    """Position after which a page starts: the sort values of the last row, then its id."""

    values: tuple[Any, ...]
    id: UUID


@dataclass(frozen=True, slots=True)
class OrderPage:
    items: list[OrderView]
    # Keyset of each item, in order; the graph layer turns them into opaque cursors.
    keysets: list[Keyset]
    has_next: bool


def view_of(order: Order) -> OrderView:
    """The read model of an order just written (no second query after createOrder)."""
    return OrderView(
        id=order.id,
        order_id=order.order_id,
        branch=order.branch,
        order_status=order.order_status.value,
        amount=order.amount,
        currency=order.currency,
        client_name=order.client_name,
        client_email=order.client_email,
        client_phone=order.client_phone,
        phone_valid=order.phone_valid,
        whatsapp_alerts_enabled=order.whatsapp_alerts_enabled,
        product_country=order.product_country,
        product_doc_type=order.product_doc_type,
        visa_entries=order.visa_entries,
        visa_document_validity_days=order.visa_document_validity_days,
        processing_days=order.processing_days,
        is_urgent=order.is_urgent,
        visa_quantity=order.visa_quantity,
        entry_date=order.entry_date,
        flags=[FlagView(f.field, f.issue) for f in order.flags],
        created_at=order.created_at,
        processed_at=order.processed_at,
    )
