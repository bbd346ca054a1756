"""Contact sync handlers: one attempt of pushing an order's client to the CRM (and, on success,
queueing the order confirmation), and the admin's request to sync again."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from uuid import UUID

from app import context
from app.contacts.commands import ResyncContact, SyncContact, SyncOutcome
from app.contacts.ports import ContactSync
from app.contacts.sync import ACTOR, sync_contacts
from app.errors import NotFound
from app.groups import Member
from app.ports import UnitOfWorkFactory
from domain.contacts.events import ContactResyncRequested
from domain.orders.model import Order

__all__ = ["ACTOR", "resync_contact", "sync_contact"]


async def sync_contact(
    cmd: SyncContact,
    *,
    uow: UnitOfWorkFactory,
    contacts: ContactSync,
    now: Callable[[], datetime],
    new_id: Callable[[], UUID],
) -> SyncOutcome:
    """One attempt alone: a group of one (app/contacts/sync.py); raise `VendorError` (after
    recording it) to have the job retried."""
    member = Member(cmd, context.correlation_id.get(), context.job_id.get())
    [outcome] = await sync_contacts([member], uow=uow, contacts=contacts, now=now, new_id=new_id)
    if isinstance(outcome, BaseException):
        raise outcome
    return outcome


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
