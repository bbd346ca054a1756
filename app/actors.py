"""The one registry of actors: name → queue, handler and retry policy, for producers and workers."""

from __future__ import annotations

import logging
from typing import Protocol
from uuid import UUID

from app.bulk.commands import RunBulkBatch
from app.bulk.policies import RUN_BULK_BATCH
from app.bus import MessageBus
from app.contacts.commands import SyncContact
from app.contacts.policies import SYNC_CONTACT
from app.jobs import ActorFn, ActorSpec, Queue
from app.maintenance import RUN_MAINTENANCE, RunMaintenance
from app.notifications.commands import RecordSent, SendNotification
from app.notifications.policies import SEND_NOTIFICATION
from app.notifications.recording import RECORD_JOB
from app.workflows.commands import ExecuteRun
from app.workflows.policies import RUN_WORKFLOW

log = logging.getLogger("visapi.actors")


class JobSettings(Protocol):
    """The settings the registry reads (Dramatiq timings, in milliseconds)."""

    @property
    def job_max_retries(self) -> int: ...

    @property
    def job_min_backoff_ms(self) -> int: ...

    @property
    def job_max_backoff_ms(self) -> int: ...

    @property
    def job_time_limit_ms(self) -> int: ...

    @property
    def workflow_run_time_limit_ms(self) -> int: ...


def _uuid(raw: object, name: str) -> UUID | None:
    try:
        return UUID(str(raw))
    except ValueError:
        # A malformed id never becomes valid: acknowledge instead of retrying for days.
        log.error("%s: malformed id %r; message dropped", name, raw)
        return None


# Actor bodies: decode ids, build one command, hand it to the bus. Raising asks for a retry.


async def sync_contact(bus: MessageBus, *, order_id: str, resync: bool = False) -> None:
    order_uuid = _uuid(order_id, SYNC_CONTACT)
    if order_uuid is not None:
        await bus.handle(SyncContact(order_uuid, resync=resync is True))


async def send_notification(bus: MessageBus, *, notification_id: str) -> None:
    notification_uuid = _uuid(notification_id, SEND_NOTIFICATION)
    if notification_uuid is not None:
        await bus.handle(SendNotification(notification_uuid))


async def record_notification_sent(
    bus: MessageBus, *, notification_id: str, claim_token: str, provider_message_id: str | None
) -> None:
    notification_uuid = _uuid(notification_id, RECORD_JOB)
    if notification_uuid is not None:
        await bus.handle(RecordSent(notification_uuid, claim_token, provider_message_id))


async def run_bulk_batch(bus: MessageBus, *, operation_id: str, position: int) -> None:
    operation_uuid = _uuid(operation_id, RUN_BULK_BATCH)
    if operation_uuid is not None and isinstance(position, int):
        await bus.handle(RunBulkBatch(operation_uuid, position))


async def run_maintenance(bus: MessageBus, *, task: str) -> None:
    await bus.handle(RunMaintenance(str(task)))


async def run_workflow(bus: MessageBus, *, run_id: str) -> None:
    run_uuid = _uuid(run_id, RUN_WORKFLOW)
    if run_uuid is not None:
        await bus.handle(ExecuteRun(run_uuid))


def actor_registry(settings: JobSettings) -> dict[str, ActorSpec]:
    """Every actor the system knows, each with its queue (stated here only); the outbox refuses
    jobs for names not listed here."""

    def retried(name: str, queue: Queue, handler: ActorFn) -> ActorSpec:
        """An actor on the settings' retry policy (Dramatiq's backoff between attempts)."""
        return ActorSpec(
            name=name,
            queue=queue,
            handler=handler,
            max_retries=settings.job_max_retries,
            min_backoff_ms=settings.job_min_backoff_ms,
            max_backoff_ms=settings.job_max_backoff_ms,
            time_limit_ms=settings.job_time_limit_ms,
        )

    specs = [
        retried(SYNC_CONTACT, Queue.DEFAULT, sync_contact),
        retried(SEND_NOTIFICATION, Queue.CRITICAL, send_notification),
        # A message the vendor accepted, whose recording outlived the send job's own retries
        # (app/notifications/recording.py): retried until the database answers again.
        retried(RECORD_JOB, Queue.CRITICAL, record_notification_sent),
        # One batch of a bulk operation: behind every interactive job, retried like them
        # (a repeated batch job finds its batch done and does nothing).
        retried(RUN_BULK_BATCH, Queue.BULK, run_bulk_batch),
        # Key usage flush, retention and the idempotency purge, once per tick (app/maintenance.py).
        retried(RUN_MAINTENANCE, Queue.BULK, run_maintenance),
        # Steps retry inside the run (each with its own backoff and timeout); a run that still
        # fails goes straight to the dead letters, and a replay resumes at the failed step.
        ActorSpec(
            name=RUN_WORKFLOW,
            queue=Queue.DEFAULT,
            handler=run_workflow,
            max_retries=0,
            time_limit_ms=settings.workflow_run_time_limit_ms,
        ),
    ]
    return {spec.name: spec for spec in specs}
