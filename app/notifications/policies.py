"""Which sends notification events cause; written to the outbox in the event's own transaction."""

from __future__ import annotations

from collections.abc import Mapping

from app.jobs import Job, JobPolicy
from domain.notifications.events import NotificationQueued

SEND_NOTIFICATION = "send_notification"


def jobs_for_notification(event: NotificationQueued) -> list[Job]:
    # On the critical queue (app/actors.py): a customer is waiting for it.
    return [Job(SEND_NOTIFICATION, {"notification_id": event.notification_id})]


JOB_POLICIES: Mapping[type, JobPolicy] = {NotificationQueued: jobs_for_notification}
