"""Cron triggers: on each scheduler tick, queue one run per (trigger, fire time) that is due.

The enabled workflows are read on every tick (through the 10-minute cache, evicted on every
change), so edits apply without a restart. Any number of schedulers may evaluate the same
tick: the run is queued in the transaction that inserts the (trigger, fire time) claim in
`schedule_ticks`, so exactly one of them queues it, and a crash cannot claim without queuing.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from uuid import UUID
from zoneinfo import ZoneInfo

from croniter import croniter

from app.ports import UnitOfWorkFactory
from app.workflows.commands import FireCronTriggers
from app.workflows.ports import WorkflowView
from app.workflows.runs import queue_run
from domain.workflows.model import Trigger, definition_from

log = logging.getLogger("visapi.workflows")


def last_fire(schedule: str, timezone: str, at: datetime) -> datetime:
    """The latest time at or before `at` that `schedule` names in `timezone`, in UTC."""
    local = (at.replace(microsecond=0) + timedelta(seconds=1)).astimezone(ZoneInfo(timezone))
    fired: datetime = croniter(schedule, local).get_prev(datetime)
    return fired.astimezone(UTC)


def claim_name(workflow_id: UUID, trigger: Trigger) -> str:
    """The schedule_ticks job name of one cron trigger (an edited schedule is a new name)."""
    digest = hashlib.sha1(
        f"{trigger.schedule}|{trigger.timezone}".encode(), usedforsecurity=False
    ).hexdigest()[:12]
    return f"cron:{workflow_id}:{digest}"


async def fire_cron_triggers(
    cmd: FireCronTriggers,
    *,
    enabled: Callable[[], Awaitable[list[WorkflowView]]],
    uow: UnitOfWorkFactory,
    lookback_s: float,
    now: Callable[[], datetime],
    new_id: Callable[[], UUID],
) -> int:
    """Queue the runs due now; return how many this caller queued. A fire time older than
    `lookback_s` (the schedulers were down) is skipped rather than run late."""
    at = now()
    queued = 0
    for workflow in await enabled():
        for trigger in definition_from(workflow.definition).triggers:
            if trigger.type != "cron" or trigger.schedule is None:
                continue
            due = last_fire(trigger.schedule, trigger.timezone, at)
            if at - due > timedelta(seconds=lookback_s):
                continue
            async with uow(actor="scheduler") as unit:
                if not await unit.runs.claim_tick(
                    claim_name(workflow.id, trigger), due, cmd.claimer
                ):
                    continue
                context = {
                    "schedule": trigger.schedule,
                    "timezone": trigger.timezone,
                    "firedAt": due.isoformat(),
                }
                run = queue_run(
                    unit,
                    workflow,
                    trigger_type="cron",
                    trigger_key=trigger.schedule,
                    context=context,
                    run_id=new_id(),
                    now=at,
                    actor="scheduler",
                )
                await unit.runs.add(run)
                await unit.commit()
            queued += 1
            log.info("cron %r of workflow %s queued run %s", trigger.schedule, workflow.id, run.id)
    return queued
