"""Which jobs each order event causes; written to the outbox in the event's own transaction."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from app.jobs import Job, Queue
from domain.orders.model import OrderCreated

# Only Israeli-branch orders go to the CRM (DOMAIN.md "Order intake").
SYNCED_BRANCHES = frozenset({"il"})


def jobs_for_order_created(event: OrderCreated) -> list[Job]:
    if event.branch not in SYNCED_BRANCHES:
        return []
    return [Job("sync_contact", {"order_id": str(event.aggregate_id)}, Queue.DEFAULT)]


JOB_POLICIES: Mapping[type, Callable[[Any], list[Job]]] = {
    OrderCreated: jobs_for_order_created,
}


def jobs_for(event: Any) -> list[Job]:
    policy = JOB_POLICIES.get(type(event))
    return policy(event) if policy else []
