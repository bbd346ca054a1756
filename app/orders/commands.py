"""Order commands (imperative names) and the outcomes their handlers return."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from uuid import UUID

from domain.orders.model import Order


@dataclass(frozen=True)
class CreateOrder:
    """Take in one storefront body `{order, form}` (from the webhook or GraphQL)."""

    payload: Any
    source: str = "graphql"
    idempotency_key: str | None = None
    actor: str | None = None
    correlation_id: str | None = None


@dataclass(frozen=True)
class MarkOrdersProcessed:
    ids: tuple[UUID, ...]
    actor: str | None = None
    correlation_id: str | None = None


@dataclass(frozen=True)
class OrderAccepted:
    order: Order
    created: bool  # False: the order id was already stored; nothing new happened


@dataclass(frozen=True)
class OrderSkipped:
    reason: str


@dataclass(frozen=True)
class OrderRejected:
    message: str
    field: str | None


CreateOrderOutcome = OrderAccepted | OrderSkipped | OrderRejected


@dataclass(frozen=True)
class RetriggerOrder:
    """Admin repair: re-run an existing order's side effects from its archived body."""

    order_uuid: UUID
    actor: str | None = None
    correlation_id: str | None = None


@dataclass(frozen=True)
class OrderRetriggered:
    order: Order
    jobs: list[str]  # actor names queued again
