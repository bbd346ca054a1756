"""The registry's check of a job before it is stored: a known actor, and the keyword arguments
its body takes (a wrong name would otherwise fail days later, in a dead letter)."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any
from uuid import uuid4

import pytest

from app.actors import actor_registry
from app.contacts.policies import SYNC_CONTACT, jobs_for_resync
from app.jobs import ActorSpec, InvalidJob, Job, Queue, UnknownActor, check_jobs, jobs_by_policy
from app.notifications.policies import SEND_NOTIFICATION
from domain.contacts.events import ContactResyncRequested
from visapi.settings import Settings

REGISTRY = actor_registry(Settings())


async def open_ended(bus: Any, **arguments: Any) -> None:
    return None


def test_a_job_for_an_unknown_actor_is_refused() -> None:
    with pytest.raises(UnknownActor, match="no actor named 'sync_contacts'"):
        check_jobs([Job("sync_contacts", {"order_id": "x"})], REGISTRY)


def test_a_job_with_its_actors_arguments_passes() -> None:
    check_jobs([Job(SYNC_CONTACT, {"order_id": "x", "resync": True})], REGISTRY)
    check_jobs([Job(SYNC_CONTACT, {"order_id": "x"})], REGISTRY)  # resync has a default


def test_a_missing_required_argument_is_refused_naming_it() -> None:
    with pytest.raises(InvalidJob, match=re.escape("(required ['notification_id']), given []")):
        check_jobs([Job(SEND_NOTIFICATION, {})], REGISTRY)


def test_an_unknown_argument_is_refused() -> None:
    with pytest.raises(InvalidJob, match=re.escape("given ['orderId', 'order_id']")):
        check_jobs([Job(SYNC_CONTACT, {"order_id": "x", "orderId": "x"})], REGISTRY)


def test_an_actor_taking_any_keywords_accepts_any_arguments() -> None:
    registry = {"probe": ActorSpec("probe", Queue.BULK, open_ended)}
    check_jobs([Job("probe", {"anything": 1})], registry)


def test_a_resync_job_passes_the_check_on_the_default_queue() -> None:
    event = ContactResyncRequested(aggregate_id=uuid4(), occurred_at=datetime.now(UTC))
    jobs = jobs_for_resync(event)
    check_jobs(jobs, REGISTRY)
    assert [(j.actor, REGISTRY[j.actor].queue) for j in jobs] == [(SYNC_CONTACT, Queue.DEFAULT)]


def test_jobs_by_policy_answers_no_jobs_for_an_event_without_policy() -> None:
    jobs_for = jobs_by_policy({})
    assert jobs_for(object()) == []
    assert jobs_by_policy({str: lambda e: [Job(SYNC_CONTACT, {"order_id": e})]})("x") == [
        Job(SYNC_CONTACT, {"order_id": "x"})
    ]
