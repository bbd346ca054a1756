"""Wiring of workflows: repositories, cached reads, step vendors, handlers and the cron job."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime
from functools import partial
from uuid import UUID

from sqlalchemy.ext.asyncio import AsyncEngine

from app.bus import CommandHandler
from app.idempotency import IdempotencyPolicy
from app.main.settings import Settings
from app.metrics import NO_METRICS, Metrics
from app.notifications.ports import Messaging
from app.ports import Cache, OrderStarts, UnitOfWorkFactory
from app.workflows.commands import (
    CancelRun,
    CreateWorkflow,
    DeleteWorkflow,
    ExecuteRun,
    SetWorkflowEnabled,
    StartRun,
    TriggerWebhook,
    UpdateWorkflow,
)
from app.workflows.cron import fire_cron_triggers
from app.workflows.execute import Pacing, execute_run
from app.workflows.handlers import (
    create_workflow,
    delete_workflow,
    set_workflow_enabled,
    update_workflow,
)
from app.workflows.orders import OrderWorkflows
from app.workflows.ports import Chat, Mailer, WorkflowReads
from app.workflows.queries import WorkflowQueries, bind_workflow_queries
from app.workflows.runs import cancel_run, start_run, trigger_webhook
from app.workflows.steps import step_runners
from infrastructure.db.idempotency import SqlIdempotency
from infrastructure.db.workflow_reads import SqlWorkflowReads
from infrastructure.vendors.pdf import XhtmlPdfDocuments
from infrastructure.vendors.sandbox_steps import SandboxSteps
from infrastructure.vendors.slack import SlackWebhookChat
from infrastructure.vendors.smtp import SmtpConfig, SmtpMailer


@dataclass
class WorkflowSlice:
    queries: WorkflowQueries
    commands: dict[type, CommandHandler]
    # The workflows an order starts in its own transaction (create and retrigger order).
    order_starts: OrderStarts
    fire_cron: Callable[[str], Awaitable[int]]  # argument: the claimer's name
    closers: list[Callable[[], Awaitable[None]]] = field(default_factory=list)


def build_workflows(
    settings: Settings,
    *,
    engine: AsyncEngine,
    cache: Cache,
    uow: UnitOfWorkFactory,
    now: Callable[[], datetime],
    new_id: Callable[[], UUID],
    messaging: Messaging | None = None,
    reads: WorkflowReads | None = None,
    metrics: Metrics = NO_METRICS,
) -> WorkflowSlice:
    # The primary, not a replica: a trigger must see a workflow the moment it is saved.
    queries = bind_workflow_queries(
        reads or SqlWorkflowReads(engine), cache, enabled_ttl=settings.workflow_cache_ttl_s
    )
    sandbox = SandboxSteps(engine)
    closers: list[Callable[[], Awaitable[None]]] = []
    chat: Chat = sandbox
    if settings.slack_webhook_url:
        slack = SlackWebhookChat(
            settings.slack_webhook_url, timeout_s=settings.slack_timeout_s, metrics=metrics
        )
        chat = slack
        closers.append(slack.aclose)
    mailer: Mailer = sandbox
    if settings.email_host:
        mailer = SmtpMailer(
            SmtpConfig(
                host=settings.email_host,
                port=settings.email_port,
                sender=settings.email_from,
                user=settings.email_user,
                password=settings.email_password,
                starttls=settings.email_tls,
                timeout_s=settings.email_timeout_s,
            ),
            metrics=metrics,
        )
    runners = step_runners(
        chat=chat,
        mailer=mailer,
        messaging=messaging or sandbox,
        documents=XhtmlPdfDocuments(settings.pdf_dir),
    )
    pacing = Pacing(backoff_s=settings.workflow_step_backoff_s)
    commands: dict[type, CommandHandler] = {
        CreateWorkflow: partial(create_workflow, uow=uow, cache=cache, now=now, new_id=new_id),
        UpdateWorkflow: partial(update_workflow, uow=uow, cache=cache, now=now),
        SetWorkflowEnabled: partial(set_workflow_enabled, uow=uow, cache=cache, now=now),
        DeleteWorkflow: partial(delete_workflow, uow=uow, cache=cache, now=now),
        StartRun: partial(start_run, uow=uow, now=now, new_id=new_id),
        TriggerWebhook: partial(
            trigger_webhook,
            uow=uow,
            enabled=queries.enabled,
            idempotency=SqlIdempotency(engine),
            policy=IdempotencyPolicy(
                ttl_s=settings.idempotency_ttl_s,
                wait_s=settings.idempotency_wait_s,
                reclaim_after_s=settings.idempotency_reclaim_s,
            ),
            now=now,
            new_id=new_id,
        ),
        ExecuteRun: partial(
            execute_run, uow=uow, runners=runners, pacing=pacing, now=now, metrics=metrics
        ),
        CancelRun: partial(cancel_run, uow=uow, now=now, metrics=metrics),
    }

    async def fire_cron(claimer: str) -> int:
        return await fire_cron_triggers(
            enabled=queries.enabled,
            uow=uow,
            claimer=claimer,
            lookback_s=settings.workflow_cron_lookback_s,
            now=now,
            new_id=new_id,
        )

    return WorkflowSlice(
        queries=queries,
        commands=commands,
        order_starts=OrderWorkflows(enabled=queries.enabled, now=now, new_id=new_id).plan,
        fire_cron=fire_cron,
        closers=closers,
    )
