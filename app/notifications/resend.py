"""The admin resend of an order confirmation (DOMAIN.md "WhatsApp notifications": force).

Rows never move backwards: a failed confirmation stays failed and a resend is a new row
(`resend-<n>`), so the history of what was sent to whom remains readable.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from uuid import UUID

from app.errors import InvalidInput, NotFound
from app.logs.ports import LogLevel
from app.notifications.commands import ConfirmationQueued, ResendConfirmation
from app.notifications.confirmations import DELIVERED, add_confirmation, bound_params, queued_event
from app.notifications.ports import NewNotification
from app.orders.side_views import NotificationView
from app.ports import UnitOfWork, UnitOfWorkFactory
from domain.notifications import confirmation as c
from domain.notifications.status import NotificationStatus as S
from domain.orders.model import Order
from domain.orders.normalise import normalise_phone

IN_FLIGHT = frozenset({S.QUEUED.value, S.PENDING.value})


def _phone(raw: str) -> str:
    digits, valid = normalise_phone(raw)
    if digits is None or not valid:
        raise InvalidInput(f"phone {raw[:32]!r} is not a valid phone number", field="phone")
    return digits


async def resend_confirmation(
    cmd: ResendConfirmation,
    *,
    uow: UnitOfWorkFactory,
    now: Callable[[], datetime],
    new_id: Callable[[], UUID],
) -> ConfirmationQueued:
    """Queue the confirmation through the outbox; raise NotFound or InvalidInput (naming the
    field) when it cannot or must not be sent."""
    phone = _phone(cmd.phone) if cmd.phone is not None else None
    async with uow(actor=cmd.actor, correlation_id=cmd.correlation_id) as unit:
        queued = await resend_in(
            unit, cmd.order_uuid, force=cmd.force, phone=phone, at=now(), new_id=new_id,
            actor=cmd.actor,
        )  # fmt: skip
        await unit.commit()
    return queued


async def resend_in(
    unit: UnitOfWork,
    order_uuid: UUID,
    *,
    force: bool,
    phone: str | None,
    at: datetime,
    new_id: Callable[[], UUID],
    actor: str | None,
) -> ConfirmationQueued:
    """The resend inside `unit` (the caller commits); `phone` already normalised. NotFound or
    InvalidInput (naming the field) when it cannot or must not be sent."""
    order = await unit.orders.get(order_uuid)
    if order is None:
        raise NotFound(f"no order {order_uuid}", field="orderId")
    existing = await unit.notifications.of_order(order.id, c.KIND)
    await _refuse_if_ineligible(unit, order, existing, phone, force=force)
    in_flight = [n for n in existing if n.status in IN_FLIGHT]
    if in_flight and not force:
        return _queue_again(unit, in_flight[-1], phone, at, actor)
    try:
        params = await bound_params(unit, order)
    except c.TemplateMismatch as exc:
        raise InvalidInput(exc.message, field=exc.field) from None
    item = c.resend_item([n.item for n in existing]) if existing else c.FIRST_ITEM
    to = phone or order.client_phone
    assert to is not None  # eligibility requires a phone
    row = await add_confirmation(
        unit, order, item=item, phone=to, params=params, at=at, new_id=new_id, actor=actor
    )
    if row is None:
        # A concurrent resend took the same item: the caller may simply try again.
        raise InvalidInput("another resend of this order is in progress; retry", field="orderId")
    return ConfirmationQueued(queued_view(row), created=True)


async def _refuse_if_ineligible(
    unit: UnitOfWork,
    order: Order,
    existing: list[NotificationView],
    phone: str | None,
    *,
    force: bool,
) -> None:
    """InvalidInput naming every reason the order gets no confirmation, if there is one."""
    sent = [n for n in existing if n.status in DELIVERED]
    reasons = c.ineligible(
        order,
        synced=await unit.contact_syncs.is_synced(order.id),
        already_sent=bool(sent),
        phone_valid=True if phone else None,
    )
    if force:
        # Force overrides the customer's alert setting and what was sent before, never
        # what makes sending impossible (no CRM contact, no valid phone, no Hebrew branch).
        reasons = [
            r for r in reasons if r not in (c.Ineligible.ALERTS_OFF, c.Ineligible.ALREADY_SENT)
        ]
    if reasons:
        field = "force" if reasons == [c.Ineligible.ALREADY_SENT] else "orderId"
        raise InvalidInput(_refusal(order.order_id, reasons, sent), field=field)


def queued_view(row: NewNotification) -> NotificationView:
    """The read model of a confirmation row just queued: nothing sent, nothing tried yet."""
    return NotificationView(
        id=row.id,
        order_id=row.order_uuid,
        kind=row.kind,
        item=row.item,
        status=S.QUEUED.value,
        template=row.template,
        language=row.language,
        phone=row.phone,
        provider_message_id=None,
        sent_at=None,
        delivered_at=None,
        read_at=None,
        failed_at=None,
        failure_reason=None,
        attempts=0,
    )


def _queue_again(
    unit: UnitOfWork, row: NotificationView, phone: str | None, at: datetime, actor: str | None
) -> ConfirmationQueued:
    """An unsent confirmation exists (its job may have been dead-lettered): queue its job again
    rather than a second message; the claim makes an extra job harmless."""
    if phone is not None and phone != row.phone:
        raise InvalidInput(
            f"a confirmation to {row.phone} is {row.status}; its phone cannot change,"
            " use force to send another",
            field="phone",
        )
    unit.record([queued_event(row.order_id, row.id, row.item, at, actor)])
    unit.logs.add(
        LogLevel.INFO,
        f"confirmation {row.item} of order {row.order_id} queued again ({row.status})",
        metadata={"order_uuid": str(row.order_id), "notification_id": str(row.id)},
    )
    return ConfirmationQueued(row, created=False)


def _refusal(order_id: str, reasons: list[c.Ineligible], sent: list[NotificationView]) -> str:
    text = "; ".join(r.value for r in reasons)
    if c.Ineligible.ALREADY_SENT in reasons and sent:
        text += f" (at {sent[-1].sent_at}); pass force: true to send another"
    return f"order {order_id} gets no confirmation: {text}"
