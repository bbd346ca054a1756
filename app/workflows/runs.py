"""Starting runs (manual, webhook, cron, orders) and canceling them.

A run is a row plus its `run_workflow` job, written to the outbox in the same transaction by
the WorkflowRunQueued event: a crash after commit loses nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any
from uuid import UUID

from app.errors import Conflict, InvalidInput, NotFound
from app.idempotency import Answer, Idempotency, IdempotencyPolicy, run_once
from app.logs.ports import LogLevel
from app.metrics import NO_METRICS, Metrics
from app.ports import UnitOfWork, UnitOfWorkFactory
from app.workflows.commands import CancelRun, StartRun, TriggerWebhook
from app.workflows.ports import WorkflowView, step_list
from domain.errors import DomainError
from domain.workflows.model import WorkflowRunCanceled, WorkflowRunQueued, definition_from
from domain.workflows.runs import RESERVED_KEYS, WorkflowRun, reserved_key

WEBHOOK_SCOPE = "workflow-trigger"


def queue_run(
    unit: UnitOfWork,
    workflow: WorkflowView,
    *,
    trigger_type: str,
    trigger_key: str | None,
    context: Mapping[str, Any],
    run_id: UUID,
    now: datetime,
    actor: str | None = None,
) -> WorkflowRun:
    """Build the queued run and record its event; the caller adds it and commits."""
    run = WorkflowRun.queued(
        id=run_id,
        workflow_id=workflow.id,
        trigger_type=trigger_type,
        trigger_key=trigger_key,
        context=context,
        steps=step_list(workflow.definition),
        now=now,
    )
    unit.record(
        [
            WorkflowRunQueued(
                aggregate_id=run.id,
                occurred_at=now,
                actor=actor,
                workflow_id=str(workflow.id),
                trigger_type=trigger_type,
                trigger_key=trigger_key,
            )
        ]
    )
    return run


async def start_run(
    cmd: StartRun,
    *,
    uow: UnitOfWorkFactory,
    now: Callable[[], datetime],
    new_id: Callable[[], UUID],
) -> WorkflowRun:
    """Queue a run of an enabled workflow that has a trigger of the given type.

    The caller's context may not carry a key the system fills (`variables`, `order`, ...):
    refused by name rather than dropped, so a caller learns why a placeholder was not theirs.
    """
    shadowing = reserved_key(cmd.context)
    if shadowing is not None:
        raise InvalidInput(
            f"context key {shadowing!r} is reserved (filled by the workflow, not the caller);"
            f" reserved keys: {', '.join(sorted(RESERVED_KEYS))}",
            field=f"context.{shadowing}",
        )
    async with uow(actor=cmd.actor, correlation_id=cmd.correlation_id) as unit:
        workflow = await unit.workflows.get(cmd.workflow_id)
        if workflow is None:
            raise NotFound(f"no workflow {cmd.workflow_id}", field="id")
        if not workflow.enabled:
            raise Conflict(f"workflow {workflow.id} is disabled", field="id")
        if not definition_from(workflow.definition).has_trigger(cmd.trigger_type):
            raise Conflict(f"workflow {workflow.id} has no {cmd.trigger_type} trigger", field="id")
        run = queue_run(
            unit,
            workflow,
            trigger_type=cmd.trigger_type,
            trigger_key=cmd.trigger_key,
            context=cmd.context,
            run_id=new_id(),
            now=now(),
            actor=cmd.actor,
        )
        await unit.runs.add(run)
        await unit.commit()
    return run


async def trigger_webhook(
    cmd: TriggerWebhook,
    *,
    uow: UnitOfWorkFactory,
    enabled: Callable[[], Any],
    idempotency: Idempotency,
    policy: IdempotencyPolicy,
    now: Callable[[], datetime],
    new_id: Callable[[], UUID],
) -> UUID:
    """The run id for this webhook call: a new run, or the one a repeated key already got.

    The key store is the one the order webhook uses (`app.idempotency`): the first request under
    a key starts the run; repeats wait for and get its run id; another body is refused (422).
    """
    workflows: list[WorkflowView] = await enabled()
    owner = next(
        (w for w in workflows if cmd.key in definition_from(w.definition).webhook_keys()), None
    )
    if owner is None:
        raise NotFound(f"no enabled workflow has the webhook trigger {cmd.key!r}", field="key")

    async def start() -> Answer:
        run = await start_run(
            StartRun(
                workflow_id=owner.id,
                trigger_type="webhook",
                trigger_key=cmd.key,
                context={"body": cmd.body},
                actor=cmd.actor,
                correlation_id=cmd.correlation_id,
            ),
            uow=uow,
            now=now,
            new_id=new_id,
        )
        return Answer(202, {"runId": str(run.id)})

    answer, _ = await run_once(
        idempotency,
        f"{WEBHOOK_SCOPE}:{cmd.key}",
        cmd.idempotency_key,
        cmd.request_hash,
        start,
        policy=policy,
        now=now,
        new_id=new_id,
        header="Idempotency-Key",
    )
    return UUID(str(answer.body["runId"]))


async def cancel_run(
    cmd: CancelRun,
    *,
    uow: UnitOfWorkFactory,
    now: Callable[[], datetime],
    metrics: Metrics = NO_METRICS,
) -> WorkflowRun:
    """Mark a queued or running run canceled; its executor stops before the next step."""
    at = now()
    async with uow(actor=cmd.actor, correlation_id=cmd.correlation_id) as unit:
        run = await unit.runs.get(cmd.id, lock=True)
        if run is None:
            raise NotFound(f"no workflow run {cmd.id}", field="id")
        try:
            run.cancel(at)
        except DomainError as exc:
            raise Conflict(exc.message, field="id") from None
        await unit.runs.save(run, at)
        unit.record(
            [
                WorkflowRunCanceled(
                    aggregate_id=run.id,
                    occurred_at=at,
                    actor=cmd.actor,
                    workflow_id=str(run.workflow_id),
                )
            ]
        )
        unit.logs.add(
            LogLevel.INFO,
            f"workflow run {run.id} canceled by {cmd.actor or 'the system'}",
            metadata={"run_id": str(run.id)},
            workflow_id=run.workflow_id,
        )
        await unit.commit()
    # The run's final status; its executor, if any, stops without counting it again.
    metrics.workflow_run(run.status.value)
    return run
