"""Which contact syncs order events cause; written to the outbox in the event's own transaction."""

from __future__ import annotations

from collections.abc import Mapping

from app.jobs import Job, JobPolicy
from domain.contacts.events import ContactResyncRequested
from domain.orders.model import OrderCreated, OrderRetriggered

SYNC_CONTACT = "sync_contact"

# Only Israeli-branch orders go to the CRM (DOMAIN.md "Order intake").
SYNCED_BRANCHES = frozenset({"il"})


def jobs_for_order_created(event: OrderCreated | OrderRetriggered) -> list[Job]:
    if event.branch not in SYNCED_BRANCHES:
        return []
    return [Job(SYNC_CONTACT, {"order_id": str(event.aggregate_id)})]


def jobs_for_resync(event: ContactResyncRequested) -> list[Job]:
    # Any branch: an admin asking for it is the policy here.
    return [Job(SYNC_CONTACT, {"order_id": str(event.aggregate_id), "resync": True})]


JOB_POLICIES: Mapping[type, JobPolicy] = {
    OrderCreated: jobs_for_order_created,
    # The same jobs as a new order: each is idempotent, so running them again is safe.
    OrderRetriggered: jobs_for_order_created,
    ContactResyncRequested: jobs_for_resync,
}
