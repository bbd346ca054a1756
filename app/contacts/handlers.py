"""Contact sync handlers: one attempt of pushing an order's client to the CRM (and, on success,
queueing the order confirmation), and the admin's request to sync again."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import datetime
from uuid import UUID

from app.contacts.commands import ResyncContact, SyncContact, SyncOutcome
from app.contacts.ports import Contact, ContactSync
from app.errors import NotFound
from app.live import OrderEventType, order_notice
from app.logs.ports import LogLevel
from app.notifications.confirmations import confirm_after_sync
from app.ports import UnitOfWork, UnitOfWorkFactory
from app.vendors import VendorError
from domain.contacts.events import ContactResyncRequested
from domain.contacts.field_map import custom_fields, gender_of, language_for
from domain.errors import DomainError
from domain.notifications.confirmation import TemplateMismatch
from domain.notifications.texts import translated_fields
from domain.orders.model import Order

log = logging.getLogger("visapi.contacts")

ACTOR = "job:sync_contact"


def contact_of(order: Order, language: str) -> Contact:
    """The contact with every custom field of the map (raises `FieldValueError`)."""
    assert order.client_phone is not None
    return Contact(
        phone=order.client_phone,
        name=order.client_name,
        email=order.client_email,
        language=language,
        gender=gender_of(order.applicants_data),
        fields=custom_fields(order),
    )


async def sync_contact(
    cmd: SyncContact,
    *,
    uow: UnitOfWorkFactory,
    contacts: ContactSync,
    now: Callable[[], datetime],
    new_id: Callable[[], UUID],
) -> SyncOutcome:
    """Run one attempt; raise `VendorError` (after recording it) to have the job retried.

    Jobs are delivered at least once, so this must be idempotent: a synced row ends the job,
    and the vendor call is an upsert keyed by phone, harmless if two deliveries overlap.
    The vendor is called outside any transaction so no lock is held during network I/O.
    """
    async with uow(actor=ACTOR) as unit:
        order = await unit.orders.get(cmd.order_uuid)
        if order is None:
            # Nothing to retry: the order does not exist (deleted, or a foreign id).
            log.warning("sync_contact: no order %s; job acknowledged", cmd.order_uuid)
            return SyncOutcome.UNKNOWN_ORDER
        language = language_for(order.branch)
        attempt = await _begin_attempt(unit, order, language, now, force=cmd.resync)
        await unit.commit()
    if attempt is None:
        log.info("sync_contact: order %s already synced", order.id)
        return SyncOutcome.ALREADY_SYNCED
    if not order.client_phone:
        # The CRM keys contacts by phone: retrying cannot help, so record it and stop.
        await _record_failure(
            uow, order.id, attempt, "validation", "order has no phone number", now()
        )
        return SyncOutcome.NO_PHONE
    try:
        contact = contact_of(order, language)
    except DomainError as exc:
        await _record_failure(uow, order.id, attempt, "validation", exc.message, now())
        return SyncOutcome.INVALID_CONTACT
    contact_id, created = await _upsert(uow, contacts, contact, order.id, attempt, now)
    await _record_synced(uow, order, contact_id, created, now=now, new_id=new_id)
    return SyncOutcome.SYNCED


async def _begin_attempt(
    unit: UnitOfWork,
    order: Order,
    language: str,
    now: Callable[[], datetime],
    *,
    force: bool,
) -> int | None:
    """The sync row kept up to date with the order, and this attempt's number on it; None when
    the contact is already synced and the attempt is not forced."""
    translated = {}
    if language == "he":
        translated = translated_fields(order, await unit.texts.translations(language))
    await unit.contact_syncs.upsert(order.id, language, translated, now())
    return await unit.contact_syncs.begin_attempt(order.id, now(), force=force)


async def _upsert(
    uow: UnitOfWorkFactory,
    contacts: ContactSync,
    contact: Contact,
    order_uuid: UUID,
    attempt: int,
    now: Callable[[], datetime],
) -> tuple[str, bool]:
    """The CRM's contact id and whether it was created; a failure is recorded, then raised."""
    try:
        return await contacts.upsert(contact)
    except VendorError as exc:
        await _record_failure(uow, order_uuid, attempt, exc.category, exc.message, now())
        raise
    except asyncio.CancelledError:
        # The job's time limit cancelled the call: count it as a timeout, then unwind.
        message = "attempt exceeded its time limit"
        await _record_failure(uow, order_uuid, attempt, "timeout", message, now())
        raise


async def _record_synced(
    uow: UnitOfWorkFactory,
    order: Order,
    contact_id: str,
    created: bool,
    *,
    now: Callable[[], datetime],
    new_id: Callable[[], UUID],
) -> None:
    async with uow(actor=ACTOR) as unit:
        await unit.contact_syncs.record_success(order.id, contact_id, created, now())
        unit.announce([order_notice(OrderEventType.CONTACT_SYNCED, order.id, now())])
        unit.logs.add(
            LogLevel.INFO,
            f"contact of order {order.order_id} synced to the CRM"
            f" ({'created' if created else 'updated'})",
            metadata={"order_id": order.order_id, "order_uuid": str(order.id)},
        )
        try:
            # Same transaction: the success and the confirmation's row and job, or neither.
            outcome = await confirm_after_sync(unit, order, at=now(), new_id=new_id)
        except TemplateMismatch as exc:
            # A template edited out of step with the code: send nothing rather than a broken
            # message; the sync itself stands. Operators resend once the template is fixed.
            log.error("sync_contact: no confirmation for order %s: %s", order.id, exc.message)
            outcome = []
        await unit.commit()
    if isinstance(outcome, list):
        why = "; ".join(r.value for r in outcome) or "template mismatch"
        log.info("sync_contact: order %s synced, no confirmation (%s)", order.id, why)
    else:
        log.info("sync_contact: order %s synced, confirmation %s queued", order.id, outcome.id)


async def resync_contact(
    cmd: ResyncContact, *, uow: UnitOfWorkFactory, now: Callable[[], datetime]
) -> Order:
    """Queue `sync_contact(resync=True)` through the outbox, even for a synced order."""
    async with uow(actor=cmd.actor, correlation_id=cmd.correlation_id) as unit:
        order = await unit.orders.get(cmd.order_uuid)
        if order is None:
            raise NotFound(f"no order {cmd.order_uuid}", field="orderId")
        unit.record(
            [ContactResyncRequested(aggregate_id=order.id, occurred_at=now(), actor=cmd.actor)]
        )
        await unit.commit()
    return order


async def _record_failure(
    uow: UnitOfWorkFactory,
    order_uuid: UUID,
    attempt: int,
    category: str,
    message: str,
    at: datetime,
) -> None:
    async with uow(actor=ACTOR) as unit:
        await unit.contact_syncs.record_failure(order_uuid, category, message, at)
        unit.announce([order_notice(OrderEventType.CONTACT_SYNC_FAILED, order_uuid, at)])
        unit.logs.add(
            LogLevel.WARN,
            f"contact sync of order {order_uuid} failed ({category}): {message}",
            metadata={"order_uuid": str(order_uuid), "category": category, "attempt": attempt},
        )
        await unit.commit()
    log.warning("sync_contact: attempt %d for order %s failed (%s)", attempt, order_uuid, category)
