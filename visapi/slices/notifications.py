"""The notifications slice: WhatsApp confirmations sent exactly once, resends, delivery reports."""

from __future__ import annotations

import uuid
from functools import partial

from app.groups import Groups
from app.notifications.commands import RecordSent, ResendConfirmation, SendNotification
from app.notifications.deliveries import RecordDeliveryEvents, record_delivery_events
from app.notifications.handlers import send_notifications
from app.notifications.policies import JOB_POLICIES as JOBS
from app.notifications.policies import SEND_NOTIFICATION
from app.notifications.recording import record_notification_sent
from app.notifications.resend import resend_confirmation
from infrastructure.db.deliveries import SqlDeliveries
from infrastructure.db.logs import SqlBusinessLog
from infrastructure.queue.jobs import BrokerJobs
from visapi.platform import Platform
from visapi.slices import Slice

__all__ = ["JOBS", "build"]

# The share of a job's time limit that send_notification may spend recording a sent message.
RECORD_SHARE = 0.8


def build(p: Platform) -> Slice[None]:
    s, uow, now, new_id = p.settings, p.uow, p.now, p.new_id
    # The sends one process runs at the same time share a claim and a recording (app/groups.py).
    sends = Groups(
        SEND_NOTIFICATION,
        partial(
            send_notifications,
            uow=uow,
            messaging=p.vendors.messaging,
            now=now,
            new_token=lambda: str(uuid.uuid4()),
            stale_claim_s=s.notification_stale_claim_s,
            # Straight to the broker: the recording job must queue while the database is away.
            jobs=BrokerJobs(p.broker, p.registry),
            # Under the time limit, whose cancellation would cut the recording short.
            record_for_s=s.job_time_limit_ms / 1000 * RECORD_SHARE,
        ),
        max_size=s.job_group_size,
        metrics=p.metrics,
    )
    return Slice(
        None,
        {
            SendNotification: sends.submit,
            RecordSent: partial(record_notification_sent, uow=uow, now=now),
            ResendConfirmation: partial(resend_confirmation, uow=uow, now=now, new_id=new_id),
            RecordDeliveryEvents: partial(
                record_delivery_events,
                deliveries=SqlDeliveries(p.engine),
                now=now,
                new_id=new_id,
                feed=p.live,
                business_log=SqlBusinessLog(p.engine, now=now, feed=p.live),
            ),
        },
    )
