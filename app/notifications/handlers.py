"""The `send_notification` job: send each notification row exactly once, grouped.

The sends a worker process runs at the same time form a group (app/groups.py): one claim
statement, the vendor calls side by side, one transaction recording what they did. Each member
keeps the outcome it would have had alone, and a recording that fails for the group falls back
to each member's own, retried recording (below).

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

import asyncio
import logging
import time
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from uuid import UUID

from app import context
from app.groups import Member
from app.jobs import Jobs, RetryLater
from app.notifications.commands import SendNotification, SendOutcome
from app.notifications.ports import Claimed, ClaimState, Messaging, TemplateMessage
from app.notifications.recording import ACTOR, DONE
from app.notifications.settling import Outcome, Send, settle, unwind
from app.ports import UnitOfWorkFactory
from domain.notifications.status import NotificationStatus as S

log = logging.getLogger("visapi.notifications")

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
    """One send alone: a group of one."""
    member = Member(cmd, context.correlation_id.get(), context.job_id.get())
    [outcome] = await send_notifications(
        [member],
        uow=uow,
        messaging=messaging,
        now=now,
        new_token=new_token,
        stale_claim_s=stale_claim_s,
        jobs=jobs,
        record_for_s=record_for_s,
    )
    if isinstance(outcome, BaseException):
        raise outcome
    return outcome


async def send_notifications(
    members: Sequence[Member[SendNotification]],
    *,
    uow: UnitOfWorkFactory,
    messaging: Messaging,
    now: Callable[[], datetime],
    new_token: Callable[[], str],
    stale_claim_s: float,
    jobs: Jobs,
    record_for_s: float,
) -> list[Outcome]:
    # `record_for_s` counts from the start, as the job's time limit does (recording.py).
    deadline = time.monotonic() + record_for_s
    first: dict[UUID, Member[SendNotification]] = {}
    for m in members:
        first.setdefault(m.command.notification_id, m)
    token, at = new_token(), now()
    outcomes: dict[UUID, Outcome] = {}
    async with uow(actor=ACTOR) as unit:
        claims = await unit.notifications.claim(
            list(first), token, at, at - timedelta(seconds=stale_claim_s)
        )
        for nid in first:
            if nid not in claims:
                outcomes[nid] = _not_claimed(
                    nid, await unit.notifications.state(nid), at, stale_claim_s
                )
        await unit.commit()
    sends = [Send(first[nid], claim) for nid, claim in claims.items()]
    await _send_all(sends, messaging, uow, now)
    # The messages are out: from here on only the recording may be retried.
    await settle(sends, uow, jobs, now, deadline, outcomes)
    return [_outcome_of(m, first, outcomes) for m in members]


async def _send_all(
    sends: list[Send], messaging: Messaging, uow: UnitOfWorkFactory, now: Callable[[], datetime]
) -> None:
    try:
        answers = await asyncio.gather(
            *(messaging.send_template(_message(s.claim)) for s in sends), return_exceptions=True
        )
    except BaseException as exc:
        # Cancelled (every job of the group hit its time limit): let the next attempts claim
        # the rows at once instead of waiting out the stale window.
        await unwind(sends, uow, f"{type(exc).__name__}: {exc}", now())
        raise
    for s, answer in zip(sends, answers, strict=True):
        if isinstance(answer, BaseException):
            s.error = answer
        else:
            s.provider_id = answer


def _message(claim: Claimed) -> TemplateMessage:
    return TemplateMessage(
        phone=claim.phone,
        template=claim.template,
        language=claim.language,
        params=claim.params,
        reference=str(claim.id),
    )


def _not_claimed(nid: UUID, state: ClaimState | None, at: datetime, stale_s: float) -> Outcome:
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
    return RetryLater(f"notification {nid} is claimed by another attempt", delay_ms=delay_ms)


def _outcome_of(
    m: Member[SendNotification],
    first: dict[UUID, Member[SendNotification]],
    outcomes: dict[UUID, Outcome],
) -> Outcome:
    outcome = outcomes[m.command.notification_id]
    if first[m.command.notification_id] is m or outcome is not SendOutcome.SENT:
        return outcome
    return SendOutcome.ALREADY_SENT  # the other message of that row sent it
