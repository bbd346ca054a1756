"""Recording a message the vendor accepted: the recording is retried, never the send.

Once the vendor answered, the message is out; a database that fails the `sent` UPDATE must not
turn into a failed job, whose retry would find our claim, wait for it to turn stale and send a
second message (the fault run did exactly that, the first process alive all along). So, from
the first failure on, the recording (id, claim token, provider message id) is also a job of its
own, `record_notification_sent`, published straight to the broker (the outbox is in the
unreachable database): if this process dies now, that job still records it, and a redelivered
send finds a fresh claim, waits, then finds the row sent. Meanwhile the recording is retried
here, with backoff, for `record_for_s`: less than the job's time limit (whose cancellation
would cut it short) and so less than the stale window, during which no other attempt can take
the claim. Whichever records first wins; the other finds the row sent. If neither the database
nor the broker took it by then, the job fails, and its retry may send again after the stale
window: both stores away for longer than the time limit. And a recording job that has not run
by the end of the stale window (the database away for longer, or the job waiting behind a
backlog) races a redelivered send that takes the stale claim over: the stale window must
exceed how long the database may be away. While the database is away the job is deferred every
second (not counted, so it neither backs off to minutes nor runs out of retries): it records
within about a second of the database's return. The recording job only ever records.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from datetime import datetime
from uuid import UUID

from app.errors import Unavailable
from app.jobs import Job, Jobs, RetryLater
from app.live import OrderEventType, order_notice
from app.logs.ports import LogLevel
from app.notifications.commands import RecordSent
from app.ports import UnitOfWork, UnitOfWorkFactory
from domain.notifications.status import NotificationStatus as S

log = logging.getLogger("visapi.notifications")

ACTOR = "job:send_notification"
RECORD_JOB = "record_notification_sent"
DONE = frozenset({S.SENT.value, S.DELIVERED.value, S.READ.value})
FIRST_PAUSE_S = 0.1
MAX_PAUSE_S = 2.0
RECORD_RETRY_MS = 1_000


async def record_accepted(
    cmd: RecordSent,
    *,
    uow: UnitOfWorkFactory,
    jobs: Jobs,
    now: Callable[[], datetime],
    deadline: float,
    failure: Exception | None = None,
) -> bool | None:
    """Record `sent`, retrying until `deadline` (time.monotonic); from the first failure on,
    the recording job holds it too. `failure`: a first recording already failed with it (its
    group's), so this starts as after a failure.

    True: recorded here; False: our claim had been taken over; None: left to the job."""
    pause, handed = FIRST_PAUSE_S, False
    while True:
        if failure is None:
            try:
                return await _record(uow, cmd, now())
            except Exception as exc:
                failure = exc
        nid = cmd.notification_id
        if not handed:
            handed = await _hand_over(jobs, cmd)
        left = deadline - time.monotonic()
        if left <= 0:
            if not handed:
                raise failure
            log.warning("send_notification: %s sent, recording left to %s", nid, RECORD_JOB)
            return None
        log.warning(
            "send_notification: %s sent, recording it failed (%s); retrying the recording",
            nid,
            failure,
        )
        await asyncio.sleep(min(pause, left))
        pause = min(pause * 2, MAX_PAUSE_S)
        failure = None


async def _hand_over(jobs: Jobs, cmd: RecordSent) -> bool:
    try:
        await jobs.enqueue(record_job(cmd))
    except Exception as exc:
        log.warning(
            "send_notification: %s sent, the broker refused %s too (%s)",
            cmd.notification_id,
            RECORD_JOB,
            exc,
        )
        return False
    log.info("send_notification: %s sent, recording handed to %s", cmd.notification_id, RECORD_JOB)
    return True


def record_job(cmd: RecordSent) -> Job:
    arguments = {
        "notification_id": str(cmd.notification_id),
        "claim_token": cmd.claim_token,
        "provider_message_id": cmd.provider_message_id,
    }
    return Job(RECORD_JOB, arguments)


async def record_notification_sent(
    cmd: RecordSent, *, uow: UnitOfWorkFactory, now: Callable[[], datetime]
) -> bool:
    """The handed-over recording. While the database is away it is deferred every
    `RECORD_RETRY_MS` (not counted as failures, up to the deferral cap): counted retries back
    off to minutes and give up after a few, and a redelivered send waiting for our claim to
    turn stale would then win the race once the database is back. Deferred, this job records
    within a second of its return. Any other error raises, and the broker retries it."""
    try:
        return await _record(uow, cmd, now())
    except Unavailable as exc:
        raise RetryLater(f"{cmd.notification_id}: {exc}", delay_ms=RECORD_RETRY_MS) from exc


async def _record(uow: UnitOfWorkFactory, cmd: RecordSent, at: datetime) -> bool:
    async with uow(actor=ACTOR) as unit:
        settle = await record_in(unit, cmd, at)
        await unit.commit()
    return settle()


async def record_in(unit: UnitOfWork, cmd: RecordSent, at: datetime) -> Callable[[], bool]:
    """Record `sent` inside `unit`; once it has committed, call what this returns: it logs
    the outcome and says whether this recording was the one that counted."""
    nid: UUID = cmd.notification_id
    order_uuid = await unit.notifications.record_sent(
        nid, cmd.claim_token, cmd.provider_message_id, at
    )
    if order_uuid is not None:
        unit.announce([order_notice(OrderEventType.CONFIRMATION_SENT, order_uuid, at)])
        unit.logs.add(
            LogLevel.INFO,
            f"confirmation {nid} of order {order_uuid} sent",
            metadata={"order_uuid": str(order_uuid), "notification_id": str(nid)},
        )
    state = None if order_uuid is not None else await unit.notifications.state(nid)

    def settle() -> bool:
        if order_uuid is not None:
            log.info("send_notification: %s sent (provider id %s)", nid, cmd.provider_message_id)
        elif state is not None and state.status in DONE:
            log.info("%s: %s was already recorded as %s", RECORD_JOB, nid, state.status)
        elif state is None:
            log.warning("%s: no notification %s; job acknowledged", RECORD_JOB, nid)
        else:
            # Our claim went stale while the vendor was answering (or the database was away)
            # and another attempt took it over: the customer may get the message twice.
            log.error(
                "send_notification: %s sent but its claim was taken over (now %s); review it",
                nid,
                state.status,
            )
        return order_uuid is not None

    return settle
