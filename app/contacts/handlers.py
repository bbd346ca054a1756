"""The contact sync handler: one attempt of pushing an order's client to the CRM."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import datetime
from uuid import UUID

from app.contacts.commands import SyncContact, SyncOutcome
from app.contacts.ports import Contact, ContactSync, ContactSyncError, ContactSyncsFactory

log = logging.getLogger("visapi.contacts")

# The CRM speaks the customer's language, chosen by the branch that sold the order.
LANGUAGES = {"il": "he", "ru": "ru", "se": "sv"}
DEFAULT_LANGUAGE = "en"


def language_for(branch: str) -> str:
    return LANGUAGES.get(branch, DEFAULT_LANGUAGE)


async def sync_contact(
    cmd: SyncContact,
    *,
    syncs: ContactSyncsFactory,
    contacts: ContactSync,
    now: Callable[[], datetime],
) -> SyncOutcome:
    """Run one attempt; raise `ContactSyncError` (after recording it) to have the job retried.

    Jobs are delivered at least once, so this must be idempotent: a synced row ends the job,
    and the vendor call is an upsert keyed by phone, harmless if two deliveries overlap.
    The vendor is called outside any transaction so no lock is held during network I/O.
    """
    async with syncs() as rows:
        order = await rows.order_contact(cmd.order_uuid)
        if order is None:
            # Nothing to retry: the order does not exist (deleted, or a foreign id).
            log.warning("sync_contact: no order %s; job acknowledged", cmd.order_uuid)
            return SyncOutcome.UNKNOWN_ORDER
        language = language_for(order.branch)
        # Translations of the custom fields arrive with the CRM field map.
        await rows.ensure(order.order_uuid, language, {}, now())
        attempt = await rows.begin_attempt(order.order_uuid, now())
    if attempt is None:
        log.info("sync_contact: order %s already synced", order.order_uuid)
        return SyncOutcome.ALREADY_SYNCED
    if not order.phone:
        # The CRM keys contacts by phone: retrying cannot help, so record it and stop.
        await _record_failure(
            syncs, order.order_uuid, attempt, "validation", "order has no phone number", now()
        )
        return SyncOutcome.NO_PHONE

    contact = Contact(phone=order.phone, name=order.name, email=order.email, language=language)
    try:
        contact_id, created = await contacts.upsert(contact)
    except ContactSyncError as exc:
        await _record_failure(syncs, order.order_uuid, attempt, exc.category, exc.message, now())
        raise
    except asyncio.CancelledError:
        # The job's time limit cancelled the call: count it as a timeout, then unwind.
        await _record_failure(
            syncs, order.order_uuid, attempt, "timeout", "attempt exceeded its time limit", now()
        )
        raise
    async with syncs() as rows:
        await rows.record_success(order.order_uuid, contact_id, created, now())
    log.info("sync_contact: order %s synced as %s", order.order_uuid, contact_id)
    return SyncOutcome.SYNCED


async def _record_failure(
    syncs: ContactSyncsFactory,
    order_uuid: UUID,
    attempt: int,
    category: str,
    message: str,
    at: datetime,
) -> None:
    async with syncs() as rows:
        await rows.record_failure(order_uuid, category, message, at)
    log.warning("sync_contact: attempt %d for order %s failed (%s)", attempt, order_uuid, category)
