"""The `send_notification` handler: send one notification row exactly once.

Exactly once is a claim in the database, taken before sending, in one UPDATE that only one of
two racing attempts can win: status `queued` (or `pending` with a claim older than the stale
window) becomes `pending`, with `claimed_at` and a fresh `claim_token`. Then:

- a row already `sent` (or delivered, read) is done: the redelivered job is acknowledged;
- a fresh claim held by another attempt: raise `RetryLater` (never acknowledge: that attempt
  may yet fail and release the row, and then this job is the one that must send it);
- a send failure releases the claim (back to `queued`, only while our token holds it) and
  re-raises the `VendorError`: the broker retries, or dead-letters a permanent error, which
  first marks the row `failed` with the reason;
- a success records `sent`, `sent_at` and the provider's message id, guarded by our token; a
  failure to record it retries the recording, never the send (recording.py): in process while
  the claim is surely ours, and in a job of its own that survives this process.

The one window no claim closes: the vendor accepted the message and the worker process died
before its first attempt to record `sent` (or, when the database failed that attempt, before
the recording job reached the broker). The row stays `pending`; once the stale window passes,
a redelivery takes the claim over and sends a second message. The window is the time between
the vendor's answer and one UPDATE (or one broker command), and two things cover it. Meta's
delivery statuses of that message carry an id we never stored, so they are matched by phone to
the newest row without one, `pending` claims included (by the claim's time): the row moves to
`sent`/`delivered` and the redelivered job, once the claim is stale, finds it done and sends
nothing. That holds when the statuses arrive within the stale window (Meta's come within
seconds; the fault run shows it under load). Without them, admins review `pending` rows older
than the stale window before forcing anything. Narrowing it further
would need the vendor to deduplicate by our reference, which the CRM does not do. The stale
window (setting `notification_stale_claim_s`) must exceed the job time limit, so a slow
live attempt is never taken for a dead one; the settings check enforces it.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from uuid import UUID

from app.jobs import Jobs, RetryLater
from app.live import OrderEventType, order_notice
from app.logs.ports import LogLevel
from app.notifications.commands import RecordSent, SendNotification, SendOutcome
from app.notifications.ports import ClaimState, Messaging, TemplateMessage
from app.notifications.recording import DONE, record_accepted
from app.ports import UnitOfWorkFactory
from app.vendors import VendorError
from domain.notifications.status import NotificationStatus as S

log = logging.getLogger("visapi.notifications")

ACTOR = "job:send_notification"
# A claim that vanished between our UPDATE and our read (released by a failing attempt) is
# worth another try soon; a held one is retried when it would turn stale.
RACE_RETRY_MS = 1_000


async def send_notification(
    cmd: SendNotification,
    *,
    uow: UnitOfWorkFactory,
    messaging: Messaging,
    now: Callable[[], datetime],
    new_token: Callable[[], str],
    stale_claim_s: float,
    jobs: Jobs,
    record_for_s: float,
) -> SendOutcome:
    # `record_for_s` counts from the start, as the job's time limit does (recording.py).
    deadline = time.monotonic() + record_for_s
    nid, token, at = cmd.notification_id, new_token(), now()
    async with uow(actor=ACTOR) as unit:
        claim = await unit.notifications.claim(
            nid, token, at, at - timedelta(seconds=stale_claim_s)
        )
        state = None if claim is not None else await unit.notifications.state(nid)
        await unit.commit()
    if claim is None:
        return _not_claimed(nid, state, at, stale_claim_s)

    message = TemplateMessage(
        phone=claim.phone,
        template=claim.template,
        language=claim.language,
        params=claim.params,
        reference=str(nid),
    )
    try:
        provider_id = await messaging.send_template(message)
    except VendorError as exc:
        if exc.retryable:
            await _release(uow, nid, token, str(exc), now())
        else:
            await _fail(uow, nid, token, str(exc), now())
        raise
    except BaseException as exc:
        # Anything else (a bug, the time limit's cancellation): let the next attempt claim it
        # at once instead of waiting out the stale window.
        await _release(uow, nid, token, f"{type(exc).__name__}: {exc}", now())
        raise
    # The message is out: from here on only the recording may be retried.
    sent = RecordSent(nid, token, provider_id)
    await record_accepted(sent, uow=uow, jobs=jobs, now=now, deadline=deadline)
    return SendOutcome.SENT


def _not_claimed(nid: UUID, state: ClaimState | None, at: datetime, stale_s: float) -> SendOutcome:
    if state is None:
        log.warning("send_notification: no notification %s; job acknowledged", nid)
        return SendOutcome.UNKNOWN
    if state.status in DONE:
        return SendOutcome.ALREADY_SENT
    if state.status == S.FAILED.value:
        return SendOutcome.FAILED_BEFORE
    delay_ms = RACE_RETRY_MS
    if state.status == S.PENDING.value and state.claimed_at is not None:
        stale_at = state.claimed_at + timedelta(seconds=stale_s)
        delay_ms = max(RACE_RETRY_MS, int((stale_at - at).total_seconds() * 1000) + 1)
    raise RetryLater(f"notification {nid} is claimed by another attempt", delay_ms=delay_ms)


async def _release(uow: UnitOfWorkFactory, nid: UUID, token: str, why: str, at: datetime) -> None:
    async with uow(actor=ACTOR) as unit:
        held = await unit.notifications.release(nid, token, why, at)
        await unit.commit()
    log.warning("send_notification: %s not sent, released (%s)%s", nid, why, _lost(held))


async def _fail(uow: UnitOfWorkFactory, nid: UUID, token: str, why: str, at: datetime) -> None:
    async with uow(actor=ACTOR) as unit:
        order_uuid = await unit.notifications.record_failed(nid, token, why, at)
        if order_uuid is not None:
            unit.announce([order_notice(OrderEventType.CONFIRMATION_FAILED, order_uuid, at)])
            unit.logs.add(
                LogLevel.ERROR,
                f"confirmation {nid} of order {order_uuid} failed for good: {why}",
                metadata={"order_uuid": str(order_uuid), "notification_id": str(nid)},
            )
        await unit.commit()
    log.error(
        "send_notification: %s failed for good (%s)%s", nid, why, _lost(order_uuid is not None)
    )


def _lost(held: bool) -> str:
    return "" if held else "; our claim had been taken over"
