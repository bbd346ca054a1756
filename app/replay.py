"""Replay of stored events: re-run what each event caused, relying on the handlers' idempotency.

For every stored event of the chosen types with `start <= occurred_at < end`, oldest first:
1. the event is rebuilt from its row (type, aggregate id, time, actor, payload);
2. the job policies derive its jobs again (`jobs_for`, as the unit of work did at commit), and
   they are written to the outbox as new rows and published, like any job.
3. an OrderCreated also runs the workflow runs the order started in its own transaction again
   (`run_workflow` for each: they are not jobs of the event's policy, so step 2 misses them).
Nothing else happens: no event row is written, no aggregate changes. Replaying is safe because
every consumer is idempotent: `sync_contact` ends at once on a synced row (a forced resync is an
upsert keyed by phone), notifications are claimed per (order, kind, item), a run that ended is
not run again and a running one is left to its executor, a bulk batch job finds its batch done,
a replayed dead letter's job is one of these. So a replayed OrderCreated neither syncs nor
confirms twice. It re-does what was lost (a sync whose job was dead-lettered, a run whose job
the broker lost) and nothing more.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from app.errors import InvalidInput
from app.jobs import Job, JobPolicy
from app.ports import EventLog, JobOutbox, StoredEvent
from app.workflows.policies import RUN_WORKFLOW
from domain.contacts.events import ContactResyncRequested
from domain.events import DomainEvent
from domain.jobs import FailedJobReplayed
from domain.notifications.events import NotificationQueued
from domain.orders.bulk import BulkBatchDue
from domain.orders.model import OrderCreated, OrderRetriggered, OrdersProcessed
from domain.workflows.model import WorkflowRunQueued

log = logging.getLogger("visapi.replay")

# Types a replay re-runs: those that cause jobs or have in-process handlers. A feature adding
# either for another event adds the event here.
REPLAYABLE: Mapping[str, type[DomainEvent]] = {
    OrderCreated.type: OrderCreated,
    OrdersProcessed.type: OrdersProcessed,
    OrderRetriggered.type: OrderRetriggered,
    NotificationQueued.type: NotificationQueued,
    ContactResyncRequested.type: ContactResyncRequested,
    WorkflowRunQueued.type: WorkflowRunQueued,
    FailedJobReplayed.type: FailedJobReplayed,
    BulkBatchDue.type: BulkBatchDue,
}
MAX_EVENTS = 10_000  # per call: a larger range is refused, to be replayed in parts
CHUNK = 500  # events read, and jobs written, per transaction
_ENVELOPE = frozenset({"aggregate_id", "occurred_at", "actor"})  # columns, not payload


@dataclass(frozen=True)
class ReplayEvents:
    start: datetime
    end: datetime
    types: tuple[str, ...] | None = None  # None: every replayable type
    actor: str | None = None
    correlation_id: str | None = None


@dataclass(frozen=True)
class Replayed:
    """Per event type: events replayed, jobs written again, rows that no longer decode."""

    type: str
    events: int = 0
    jobs: int = 0
    skipped: int = 0


def decode_event(row: StoredEvent) -> DomainEvent | None:
    """The domain event of a row, or None when its payload no longer fits the event class."""
    cls = REPLAYABLE.get(row.type)
    if cls is None:
        return None
    names = {f.name for f in dataclasses.fields(cls) if f.init} - _ENVELOPE
    fields = {k: v for k, v in row.payload.items() if k in names}
    try:
        return cls(
            aggregate_id=row.aggregate_id, occurred_at=row.occurred_at, actor=row.actor, **fields
        )
    except TypeError:  # a required field is missing: the event class changed since
        return None


def _check(cmd: ReplayEvents) -> tuple[str, ...]:
    if cmd.start.tzinfo is None or cmd.end.tzinfo is None:
        raise InvalidInput("from and to need a time zone offset (the API speaks UTC)", field="from")
    if cmd.start >= cmd.end:
        raise InvalidInput("`from` must be earlier than `to`", field="to")
    if cmd.types is None:
        return tuple(REPLAYABLE)
    if not cmd.types:
        raise InvalidInput("types must not be empty (omit it to replay every type)", field="types")
    unknown = sorted(set(cmd.types) - set(REPLAYABLE))
    if unknown:
        raise InvalidInput(
            f"not replayable: {', '.join(t[:64] for t in unknown)}; "
            f"replayable types: {', '.join(REPLAYABLE)}",
            field="types",
        )
    return tuple(dict.fromkeys(cmd.types))


async def replay_events(
    cmd: ReplayEvents,
    *,
    events: EventLog,
    outbox: JobOutbox,
    jobs_for: JobPolicy,
) -> list[Replayed]:
    types = _check(cmd)
    total = await events.count(cmd.start, cmd.end, types)
    if total > MAX_EVENTS:
        raise InvalidInput(
            f"the range holds {total} events; replay at most {MAX_EVENTS} per call "
            "(narrow `from`/`to`)",
            field="to",
        )
    counts = {t: [0, 0, 0] for t in types}  # events, jobs, skipped
    after: tuple[datetime, Any] | None = None
    while True:
        rows = await events.page(cmd.start, cmd.end, types, after, CHUNK)
        if not rows:
            break
        after = rows[-1].occurred_at, rows[-1].id
        jobs: list[Job] = []
        created = [r.aggregate_id for r in rows if r.type == OrderCreated.type]
        runs = await events.runs_of_orders(created) if created else {}
        for row in rows:
            event = decode_event(row)
            if event is None:
                counts[row.type][2] += 1
                log.warning("event %s (%s) no longer decodes; not replayed", row.id, row.type)
                continue
            derived = jobs_for(event)
            if isinstance(event, OrderCreated):
                derived += [
                    Job(RUN_WORKFLOW, {"run_id": str(r)}) for r in runs.get(row.aggregate_id, [])
                ]
            counts[row.type][0] += 1
            counts[row.type][1] += len(derived)
            jobs += derived
        if jobs:
            await outbox.add(jobs, correlation_id=cmd.correlation_id)
    result = [Replayed(t, *c) for t, c in counts.items()]
    log.info(
        "events replayed by %s from %s to %s: %s",
        cmd.actor or "unknown",
        cmd.start.isoformat(),
        cmd.end.isoformat(),
        ", ".join(f"{r.type} {r.events} ({r.jobs} jobs)" for r in result),
    )
    return result
