"""Settling a group of sends (app/notifications/handlers.py): what each vendor call did,
recorded in one transaction for the group, or, when that fails, by each member alone (the
accepted ones by the retried recording of recording.py, which never sends again)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from app.groups import Member
from app.jobs import Jobs
from app.live import OrderEventType, order_notice
from app.logs.ports import LogLevel
from app.notifications.commands import RecordSent, SendNotification, SendOutcome
from app.notifications.ports import Claimed
from app.notifications.recording import ACTOR, record_accepted, record_in
from app.ports import UnitOfWork, UnitOfWorkFactory
from app.vendors import VendorError

log = logging.getLogger("visapi.notifications")

Outcome = SendOutcome | BaseException


@dataclass
class Send:
    """One claimed row of a group and what its vendor call did."""

    member: Member[SendNotification]
    claim: Claimed
    provider_id: str | None = None
    error: BaseException | None = None

    @property
    def accepted(self) -> RecordSent | None:
        if self.error is not None:
            return None
        return RecordSent(self.claim.id, self.claim.token, self.provider_id)


async def settle(
    sends: list[Send],
    uow: UnitOfWorkFactory,
    jobs: Jobs,
    now: Callable[[], datetime],
    deadline: float,
    outcomes: dict[UUID, Outcome],
) -> None:
    """Record every send of the group in one transaction; when that fails, each member
    records its own (the accepted ones by the retried recording of recording.py)."""
    if not sends:
        return
    try:
        async with uow(actor=ACTOR) as unit:
            settles = [await _settle_in(unit, s, now()) for s in sends]
            await unit.commit()
        for s, settle in zip(sends, settles, strict=True):
            settle()
            outcomes[s.claim.id] = s.error or SendOutcome.SENT
        return
    except Exception as exc:
        log.warning("send_notification: recording a group of %d failed (%s)", len(sends), exc)
        failure = exc
    await asyncio.gather(
        *(_settle_alone(s, uow, jobs, now, deadline, outcomes, failure) for s in sends)
    )


async def _settle_in(unit: UnitOfWork, s: Send, at: datetime) -> Callable[[], object]:
    with s.member.acting():
        accepted = s.accepted
        if accepted is not None:
            return await record_in(unit, accepted, at)
        assert s.error is not None
        if isinstance(s.error, VendorError) and not s.error.retryable:
            return await _fail_in(unit, s.claim, str(s.error), at)
        held = await unit.notifications.release(s.claim.id, s.claim.token, _why(s.error), at)
        return lambda: _released(s.claim.id, _why(s.error), held)


async def _settle_alone(
    s: Send,
    uow: UnitOfWorkFactory,
    jobs: Jobs,
    now: Callable[[], datetime],
    deadline: float,
    outcomes: dict[UUID, Outcome],
    failure: Exception,
) -> None:
    with s.member.acting():
        try:
            accepted = s.accepted
            if accepted is not None:
                await record_accepted(
                    accepted, uow=uow, jobs=jobs, now=now, deadline=deadline, failure=failure
                )
                outcomes[s.claim.id] = SendOutcome.SENT
                return
            async with uow(actor=ACTOR) as unit:
                settle = await _settle_in(unit, s, now())
                await unit.commit()
            settle()
            outcomes[s.claim.id] = s.error or SendOutcome.SENT
        except Exception as exc:
            outcomes[s.claim.id] = exc


async def unwind(sends: list[Send], uow: UnitOfWorkFactory, why: str, at: datetime) -> None:
    async with uow(actor=ACTOR) as unit:
        for s in sends:
            held = await unit.notifications.release(s.claim.id, s.claim.token, why, at)
            _released(s.claim.id, why, held)
        await unit.commit()


def _why(error: BaseException | None) -> str:
    # A vendor's own words, or (a bug, a time limit) what was raised.
    return str(error) if isinstance(error, VendorError) else f"{type(error).__name__}: {error}"


def _released(nid: UUID, why: str, held: bool) -> None:
    log.warning("send_notification: %s not sent, released (%s)%s", nid, why, _lost(held))


async def _fail_in(unit: UnitOfWork, claim: Claimed, why: str, at: datetime) -> Callable[[], None]:
    nid = claim.id
    order_uuid = await unit.notifications.record_failed(nid, claim.token, why, at)
    if order_uuid is not None:
        unit.announce([order_notice(OrderEventType.CONFIRMATION_FAILED, order_uuid, at)])
        unit.logs.add(
            LogLevel.ERROR,
            f"confirmation {nid} of order {order_uuid} failed for good: {why}",
            metadata={"order_uuid": str(order_uuid), "notification_id": str(nid)},
        )
    return lambda: log.error(
        "send_notification: %s failed for good (%s)%s", nid, why, _lost(order_uuid is not None)
    )


def _lost(held: bool) -> str:
    return "" if held else "; our claim had been taken over"
