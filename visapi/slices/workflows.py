"""The workflows slice: definitions, cached reads, step vendors, runs and the cron triggers."""

from __future__ import annotations

from functools import partial

from app.bus import CommandHandler
from app.workflows.commands import (
    CancelRun,
    CreateWorkflow,
    DeleteWorkflow,
    ExecuteRun,
    FireCronTriggers,
    SetWorkflowEnabled,
    StartRun,
    TriggerWebhook,
    UpdateWorkflow,
)
from app.workflows.cron import fire_cron_triggers
from app.workflows.execute import Pacing, StepRunner, execute_run
from app.workflows.handlers import (
    create_workflow,
    delete_workflow,
    set_workflow_enabled,
    update_workflow,
)
from app.workflows.policies import JOB_POLICIES as JOBS
from app.workflows.ports import Chat, Mailer
from app.workflows.queries import WorkflowQueries
from app.workflows.runs import cancel_run, start_run, trigger_webhook
from app.workflows.steps import step_runners
from infrastructure.db.idempotency import SqlIdempotency
from infrastructure.db.workflow_reads import SqlWorkflowReads
from infrastructure.vendors.pdf import XhtmlPdfDocuments
from infrastructure.vendors.sandbox_steps import SandboxSteps
from infrastructure.vendors.slack import SlackWebhookChat
from infrastructure.vendors.smtp import SmtpConfig, SmtpMailer
from visapi.platform import Closer, Platform, idempotency_policy
from visapi.slices import Slice

__all__ = ["JOBS", "build"]


def build(p: Platform) -> Slice[WorkflowQueries]:
    settings, engine, cache, uow, now, new_id = (
        p.settings,
        p.engine,
        p.cache,
        p.uow,
        p.now,
        p.new_id,
    )
    metrics = p.metrics
    # The primary, not a replica: a trigger must see a workflow the moment it is saved.
    queries = WorkflowQueries(
        p.replaced.workflow_reads or SqlWorkflowReads(engine),
        cache,
        enabled_ttl=settings.workflow_cache_ttl_s,
    )
    runners, closers = _step_runners(p)
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
            policy=idempotency_policy(settings),
            now=now,
            new_id=new_id,
        ),
        ExecuteRun: partial(
            execute_run, uow=uow, runners=runners, pacing=pacing, now=now, metrics=metrics
        ),
        CancelRun: partial(cancel_run, uow=uow, now=now, metrics=metrics),
        FireCronTriggers: partial(
            fire_cron_triggers,
            enabled=queries.enabled,
            uow=uow,
            lookback_s=settings.workflow_cron_lookback_s,
            now=now,
            new_id=new_id,
        ),
    }
    return Slice(queries, commands, closers)


def _step_runners(p: Platform) -> tuple[dict[str, StepRunner], list[Closer]]:
    """The steps' vendors: Slack and SMTP when configured, else the sandbox that records
    what they would send; WhatsApp steps send through the order confirmations' adapter."""
    settings, sandbox = p.settings, SandboxSteps(p.engine)
    closers: list[Closer] = []
    chat: Chat = sandbox
    if settings.slack_webhook_url:
        slack = SlackWebhookChat(
            settings.slack_webhook_url, timeout_s=settings.slack_timeout_s, metrics=p.metrics
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
            metrics=p.metrics,
        )
    runners = step_runners(
        chat=chat,
        mailer=mailer,
        messaging=p.vendors.messaging,
        documents=XhtmlPdfDocuments(settings.pdf_dir),
    )
    return runners, closers
