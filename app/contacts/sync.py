"""The `sync_contact` job, grouped: the attempts of the messages a worker runs at the same time
(app/groups.py) share their two transactions, and their CRM calls run side by side.

For each member, what a lone attempt does: the sync row kept up to date with the order and one
more attempt counted on it (first transaction, one statement for the group); the CRM upsert,
outside any transaction so no lock is held during network I/O; then the outcome recorded with
its live notice, its log line and, on success, the first confirmation and its job (second
transaction). Jobs are delivered at least once, so this is idempotent: a synced row ends the
job, and the CRM call is an upsert keyed by phone, harmless if two deliveries overlap. A member
whose CRM call failed gets its `VendorError` back (after it is recorded), so its message alone
is retried.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from app.contacts.commands import SyncContact, SyncOutcome
from app.contacts.ports import Contact, ContactSync, SyncStart
from app.groups import Member
from app.live import OrderEventType, order_notice
from app.logs.ports import LogLevel
from app.notifications.confirmations import confirm_after_sync
from app.ports import UnitOfWork, UnitOfWorkFactory
from app.vendors import VendorError
from domain.contacts.field_map import custom_fields, gender_of, language_for
from domain.errors import DomainError
from domain.notifications.confirmation import TemplateMismatch
from domain.notifications.texts import translated_fields
from domain.orders.model import Order

log = logging.getLogger("visapi.contacts")

ACTOR = "job:sync_contact"
TIMED_OUT = "attempt exceeded its time limit"

Outcome = SyncOutcome | BaseException


@dataclass
class _Attempt:
    """One order's attempt in a group, and what became of it."""

    member: Member[SyncContact]
    order: Order
    number: int
    contact: Contact | None = None
    failure: tuple[str, str] | None = None  # (category, message), recorded as a failure
    result: tuple[str, bool] | None = None  # (CRM contact id, created)
    error: BaseException | None = None


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


async def sync_contacts(
    members: Sequence[Member[SyncContact]],
    *,
    uow: UnitOfWorkFactory,
    contacts: ContactSync,
    now: Callable[[], datetime],
    new_id: Callable[[], UUID],
) -> list[Outcome]:
    """One outcome per member, in order; raise (every member retries) when the database fails."""
    # Two messages for one order in a group (a redelivery, a resync): the first does the work.
    first: dict[UUID, Member[SyncContact]] = {}
    for m in members:
        first.setdefault(m.command.order_uuid, m)
    attempts, outcomes = await _begin(list(first.values()), uow, now)
    for a in attempts:
        _prepare(a)
    calls = [a for a in attempts if a.contact is not None]
    try:
        answers = await asyncio.gather(
            *(contacts.upsert(a.contact) for a in calls if a.contact is not None),
            return_exceptions=True,
        )
    except asyncio.CancelledError:
        # Every job of the group hit its time limit (app/groups.py): each attempt is recorded
        # as a timeout, then the cancellation unwinds.
        for a in calls:
            a.failure = ("timeout", TIMED_OUT)
        await _record(attempts, uow, now=now, new_id=new_id)
        raise
    for a, answer in zip(calls, answers, strict=True):
        if isinstance(answer, VendorError):
            a.failure, a.error = (answer.category, answer.message), answer
        elif isinstance(answer, asyncio.CancelledError):
            # Cut short (the group was cancelled: shutdown): recorded as a timeout, then unwound.
            a.failure, a.error = ("timeout", TIMED_OUT), answer
        elif isinstance(answer, BaseException):
            a.error = answer  # a bug: not recorded as the CRM's failure, retried as before
        else:
            a.result = answer
    if any(a.result or a.failure for a in attempts):
        await _record(attempts, uow, now=now, new_id=new_id)
    for a in attempts:
        outcomes[a.order.id] = a.error or _done(a)
    return [_outcome_of(m, first, outcomes) for m in members]


async def _begin(
    members: list[Member[SyncContact]], uow: UnitOfWorkFactory, now: Callable[[], datetime]
) -> tuple[list[_Attempt], dict[UUID, Outcome]]:
    """The first transaction: the orders, and an attempt begun on each one not yet synced."""
    outcomes: dict[UUID, Outcome] = {}
    async with uow(actor=ACTOR) as unit:
        orders = await unit.orders.get_many([m.command.order_uuid for m in members])
        found = [m for m in members if m.command.order_uuid in orders]
        for m in members:
            if m.command.order_uuid not in orders:
                # Nothing to retry: the order does not exist (deleted, or a foreign id).
                log.warning("sync_contact: no order %s; job acknowledged", m.command.order_uuid)
                outcomes[m.command.order_uuid] = SyncOutcome.UNKNOWN_ORDER
        starts = {False: [], True: []}  # type: dict[bool, list[SyncStart]]
        for m in found:
            order = orders[m.command.order_uuid]
            language = language_for(order.branch)
            translated = await _translated(unit, order, language)
            starts[m.command.resync].append(SyncStart(order.id, language, translated))
        at = now()
        begun: dict[UUID, int] = {}
        for force, rows in starts.items():
            begun |= await unit.contact_syncs.begin_attempts(rows, at, force=force)
        await unit.commit()
    attempts = []
    for m in found:
        order = orders[m.command.order_uuid]
        if order.id in begun:
            attempts.append(_Attempt(m, order, begun[order.id]))
        else:
            log.info("sync_contact: order %s already synced", order.id)
            outcomes[order.id] = SyncOutcome.ALREADY_SYNCED
    return attempts, outcomes


async def _translated(unit: UnitOfWork, order: Order, language: str) -> dict[str, str]:
    if language != "he":
        return {}
    # Read once per unit: the repository keeps what it read (see SqlMessageTexts).
    return translated_fields(order, await unit.texts.translations(language))


def _prepare(a: _Attempt) -> None:
    """The contact to push, or the reason none can be (recorded, not retried)."""
    if not a.order.client_phone:
        # The CRM keys contacts by phone: retrying cannot help, so record it and stop.
        a.failure = ("validation", "order has no phone number")
        return
    try:
        a.contact = contact_of(a.order, language_for(a.order.branch))
    except DomainError as exc:
        a.failure = ("validation", exc.message)


async def _record(
    attempts: list[_Attempt],
    uow: UnitOfWorkFactory,
    *,
    now: Callable[[], datetime],
    new_id: Callable[[], UUID],
) -> None:
    """The second transaction: every member's outcome, each under its own ids."""
    queued: dict[UUID, str] = {}
    async with uow(actor=ACTOR) as unit:
        for a in attempts:
            with a.member.acting():
                if a.result is not None:
                    queued[a.order.id] = await _record_synced(unit, a.order, *a.result, now, new_id)
                elif a.failure is not None:
                    _record_failure(unit, a, now())
                    await unit.contact_syncs.record_failure(a.order.id, *a.failure, now())
        await unit.commit()
    for a in attempts:
        if a.failure is not None:
            log.warning(
                "sync_contact: attempt %d for order %s failed (%s)",
                a.number,
                a.order.id,
                a.failure[0],
            )
        elif a.result is not None:
            log.info("sync_contact: order %s synced, %s", a.order.id, queued[a.order.id])


async def _record_synced(
    unit: UnitOfWork,
    order: Order,
    contact_id: str,
    created: bool,
    now: Callable[[], datetime],
    new_id: Callable[[], UUID],
) -> str:
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
        return "no confirmation (template mismatch)"
    if isinstance(outcome, list):
        return f"no confirmation ({'; '.join(r.value for r in outcome) or 'template mismatch'})"
    return f"confirmation {outcome.id} queued"


def _record_failure(unit: UnitOfWork, a: _Attempt, at: datetime) -> None:
    assert a.failure is not None
    category, message = a.failure
    unit.announce([order_notice(OrderEventType.CONTACT_SYNC_FAILED, a.order.id, at)])
    unit.logs.add(
        LogLevel.WARN,
        f"contact sync of order {a.order.id} failed ({category}): {message}",
        metadata={"order_uuid": str(a.order.id), "category": category, "attempt": a.number},
    )


def _done(a: _Attempt) -> SyncOutcome:
    if a.result is not None:
        return SyncOutcome.SYNCED
    if not a.order.client_phone:
        return SyncOutcome.NO_PHONE
    return SyncOutcome.INVALID_CONTACT


def _outcome_of(
    m: Member[SyncContact], first: dict[UUID, Member[SyncContact]], outcomes: dict[UUID, Outcome]
) -> Outcome:
    outcome = outcomes[m.command.order_uuid]
    if first[m.command.order_uuid] is m or outcome is not SyncOutcome.SYNCED:
        return outcome
    return SyncOutcome.ALREADY_SYNCED  # the other message of that order did it
