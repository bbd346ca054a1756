"""Queueing an order confirmation inside a unit of work: eligibility, the template check, the
row and its `NotificationQueued` event (whose job the unit of work writes to the outbox)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from uuid import UUID

from app.logs.ports import LogLevel
from app.notifications.ports import NewNotification
from app.ports import UnitOfWork
from domain.notifications import confirmation as c
from domain.notifications.events import NotificationQueued
from domain.notifications.status import NotificationStatus
from domain.orders.model import Order

DELIVERED = frozenset(
    {NotificationStatus.SENT, NotificationStatus.DELIVERED, NotificationStatus.READ}
)


async def bound_params(unit: UnitOfWork, order: Order) -> list[str]:
    """The confirmation's parameters checked against the stored template.

    Raises `TemplateMismatch` (a missing template, a different parameter list, an empty value).
    """
    template = await unit.texts.template(c.TEMPLATE, c.LANGUAGE)
    if template is None:
        raise c.TemplateMismatch(
            f"no template {c.TEMPLATE} in language {c.LANGUAGE}", field="template"
        )
    texts = await unit.texts.translations(c.LANGUAGE)
    return c.bind(template, c.params(order, texts))


async def add_confirmation(
    unit: UnitOfWork,
    order: Order,
    *,
    item: str,
    phone: str,
    params: list[str],
    at: datetime,
    new_id: Callable[[], UUID],
    actor: str | None = None,
) -> NewNotification | None:
    """Insert the row (None when the order already has this item) and record its event."""
    row = NewNotification(
        id=new_id(),
        order_uuid=order.id,
        kind=c.KIND,
        item=item,
        template=c.TEMPLATE,
        language=c.LANGUAGE,
        params=params,
        phone=phone,
        created_at=at,
    )
    if not await unit.notifications.add(row):
        return None
    unit.record([queued_event(row.order_uuid, row.id, item, at, actor)])
    unit.logs.add(
        LogLevel.INFO,
        f"confirmation{f' {item}' if item else ''} of order {order.order_id} queued",
        metadata={"order_id": order.order_id, "notification_id": str(row.id)},
    )
    return row


def queued_event(
    order_uuid: UUID, notification_id: UUID, item: str, at: datetime, actor: str | None
) -> NotificationQueued:
    return NotificationQueued(
        aggregate_id=order_uuid,
        occurred_at=at,
        actor=actor,
        notification_id=str(notification_id),
        kind=c.KIND,
        item=item,
    )


async def confirm_after_sync(
    unit: UnitOfWork, order: Order, *, at: datetime, new_id: Callable[[], UUID]
) -> NewNotification | list[c.Ineligible]:
    """After a successful sync, in its transaction: the first confirmation when eligible.

    Any existing confirmation row counts as "already sent": the first one is queued once, and
    a resend is an admin's decision. Raises `TemplateMismatch` before anything is written.
    """
    existing = await unit.notifications.of_order(order.id, c.KIND)
    reasons = c.ineligible(order, synced=True, already_sent=bool(existing))
    if reasons:
        return reasons
    assert order.client_phone is not None  # eligibility requires a valid phone
    params = await bound_params(unit, order)
    row = await add_confirmation(
        unit,
        order,
        item=c.FIRST_ITEM,
        phone=order.client_phone,
        params=params,
        at=at,
        new_id=new_id,
    )
    return row if row is not None else [c.Ineligible.ALREADY_SENT]
