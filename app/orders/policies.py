"""Which jobs each order event causes; written to the outbox in the event's own transaction."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from app.jobs import Job, Queue
from domain.contacts.events import ContactResyncRequested
from domain.notifications.events import NotificationQueued
from domain.orders.model import OrderCreated, OrderRetriggered

# Only Israeli-branch orders go to the CRM (DOMAIN.md "Order intake").
SYNCED_BRANCHES = frozenset({"il"})


def jobs_for_order_created(event: OrderCreated) -> list[Job]:
    if event.branch not in SYNCED_BRANCHES:
        return []
    return [Job("sync_contact", {"order_id": str(event.aggregate_id)}, Queue.DEFAULT)]


def jobs_for_resync(event: ContactResyncRequested) -> list[Job]:
    # Any branch: an admin asking for it is the policy here.
    args = {"order_id": str(event.aggregate_id), "resync": True}
    return [Job("sync_contact", args, Queue.DEFAULT)]


def jobs_for_notification(event: NotificationQueued) -> list[Job]:
    # Critical: a customer is waiting for it, and it is one short vendor call.
    return [Job("send_notification", {"notification_id": event.notification_id}, Queue.CRITICAL)]


JOB_POLICIES: Mapping[type, Callable[[Any], list[Job]]] = {
    OrderCreated: jobs_for_order_created,
    # The same jobs as a new order: each is idempotent, so running them again is safe.
    OrderRetriggered: jobs_for_order_created,
    ContactResyncRequested: jobs_for_resync,
    NotificationQueued: jobs_for_notification,
}


def jobs_for(event: Any) -> list[Job]:
    policy = JOB_POLICIES.get(type(event))
    return policy(event) if policy else []
