"""Runs on both dialects: steps in order against a fake chat vendor, a local SMTP sink, PDFs
on disk and the sandbox; retries, timeouts, permanent errors, cancel, replay, dead letters."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import update

from app.workflows.commands import ExecuteRun
from app.workflows.execute import RunFailed
from domain.workflows.runs import RunStatus, StepStatus
from infrastructure.cache.memory import MemoryCache
from infrastructure.queue.broker import create_broker
from tests.fake_chat import FakeChat
from tests.integration.workflow_support import (
    create,
    definition,
    failed_jobs,
    outbox,
    rows,
    sandbox_messages,
    slack,
    start,
    stored_run,
)
from tests.smtp_sink import Sink
from visapi.bootstrap import Container, bootstrap
from visapi.settings import Settings
from visapi.worker import EmbeddedWorker


@pytest.fixture
async def c(wf_settings: Settings) -> AsyncIterator[Container]:
    container = bootstrap(wf_settings)
    yield container
    await container.aclose()


async def test_a_manual_run_executes_every_step_type_in_order(
    c: Container, chat: FakeChat, sink: Sink, tmp_path: Path
) -> None:
    workflow = await create(
        c,
        definition(
            slack("tell", "Order {{client.id}} paid by {{client.name}}"),
            {"id": "wait", "type": "delay", "config": {"seconds": 0}},
            {
                "id": "mail",
                "type": "email.send",
                "config": {
                    "recipient": "{{client.email}}",
                    "subject": "Order {{client.id}}",
                    "body": "Thanks {{client.name}}",
                },
            },
            {
                "id": "receipt",
                "type": "pdf.generate",
                "config": {
                    "template": "<h1>Receipt {{client.id}}</h1>",
                    "filename": "r-{{client.id}}",
                },
            },
            {
                "id": "wa",
                "type": "whatsapp.send",
                "config": {
                    "contact": "{{client.phone}}",
                    "template": "hello",
                    "params": ["{{client.id}}"],
                },
            },
            slack("after", "PDF at {{steps.receipt.path}}"),
        ),
    )
    order = {"id": "IL1", "name": "Dana", "email": "dana@example.test", "phone": "+972501234567"}
    run = await start(c, workflow, {"client": order})
    assert run.status is RunStatus.QUEUED
    assert [r.actor for r in await rows(c, outbox)] == ["run_workflow"]

    assert await c.bus.handle(ExecuteRun(run.id)) is RunStatus.SUCCEEDED

    done = await stored_run(c, run.id)
    assert done.status is RunStatus.SUCCEEDED
    assert [(s.id, s.status, s.attempts) for s in done.steps] == [
        (s, StepStatus.SUCCEEDED, 1) for s in ("tell", "wait", "mail", "receipt", "wa", "after")
    ]
    assert all(s.duration_ms is not None and s.duration_ms >= 0 for s in done.steps)
    pdf = tmp_path / "pdfs" / "r-IL1.pdf"
    assert pdf.read_bytes().startswith(b"%PDF")
    assert chat.received == [
        {"channel": "#ops", "text": "Order IL1 paid by Dana"},
        {"channel": "#ops", "text": f"PDF at {pdf}"},
    ]
    (mail,) = sink.messages
    assert (mail["To"], mail["Subject"], mail["From"]) == (
        "dana@example.test",
        "Order IL1",
        "visapi@example.test",
    )
    assert "Thanks Dana" in mail.get_payload()
    (wa,) = await rows(c, sandbox_messages)
    # WhatsApp goes through the CRM (CBB's send_content); its sandbox records it as such.
    assert (wa.vendor, wa.operation, wa.phone, wa.payload["params"]) == (
        "cbb",
        "message.send",
        "972501234567",
        ["IL1"],
    )
    assert done.started_at is not None
    assert done.finished_at is not None


async def test_a_failing_step_is_retried_until_it_succeeds(c: Container, chat: FakeChat) -> None:
    workflow = await create(c, definition(slack("tell", "hi", retries=3)))
    chat.fail_next(2, 503)
    run = await start(c, workflow, {})
    assert await c.bus.handle(ExecuteRun(run.id)) is RunStatus.SUCCEEDED
    (step,) = (await stored_run(c, run.id)).steps
    assert (step.status, step.attempts, step.error) == (StepStatus.SUCCEEDED, 3, None)
    assert chat.calls == 3
    assert chat.texts() == ["hi"]


async def test_a_rate_limited_step_waits_and_retries(c: Container, chat: FakeChat) -> None:
    workflow = await create(c, definition(slack("tell", "hi", retries=1)))
    chat.fail_next(1, 429)
    run = await start(c, workflow, {})
    assert await c.bus.handle(ExecuteRun(run.id)) is RunStatus.SUCCEEDED
    assert (await stored_run(c, run.id)).steps[0].attempts == 2


async def test_a_permanent_error_is_not_retried(c: Container, chat: FakeChat) -> None:
    workflow = await create(c, definition(slack("tell", "hi", retries=5), slack("never", "x")))
    chat.fail_next(1, 400)
    run = await start(c, workflow, {})
    with pytest.raises(RunFailed, match="tell"):
        await c.bus.handle(ExecuteRun(run.id))
    done = await stored_run(c, run.id)
    assert done.status is RunStatus.FAILED
    first, second = done.steps
    assert (first.status, first.attempts) == (StepStatus.FAILED, 1)
    assert first.error is not None
    assert "validation" in first.error
    assert (second.status, second.attempts) == (StepStatus.PENDING, 0)
    assert chat.calls == 1


async def test_a_step_over_its_timeout_fails_after_its_retries(
    c: Container, chat: FakeChat
) -> None:
    workflow = await create(c, definition(slack("tell", "hi", retries=1, timeout=1)))
    chat.slow_next(2, 3.0)
    run = await start(c, workflow, {})
    with pytest.raises(RunFailed):
        await c.bus.handle(ExecuteRun(run.id))
    (step,) = (await stored_run(c, run.id)).steps
    assert (step.status, step.attempts, step.error) == (
        StepStatus.FAILED,
        2,
        "timed out after 1 s",
    )


async def test_a_replayed_run_resumes_at_the_failed_step(c: Container, chat: FakeChat) -> None:
    workflow = await create(c, definition(slack("a", "first"), slack("b", "second", retries=0)))
    chat.received.clear()
    run = await start(c, workflow, {})
    chat.fail_next(1, 500)
    chat.failures.insert(0, 200)  # "a" succeeds, "b" fails once
    with pytest.raises(RunFailed):
        await c.bus.handle(ExecuteRun(run.id))
    assert (await stored_run(c, run.id)).status is RunStatus.FAILED

    assert await c.bus.handle(ExecuteRun(run.id)) is RunStatus.SUCCEEDED
    done = await stored_run(c, run.id)
    assert chat.texts() == ["first", "second"]  # "a" was not sent again
    assert [(s.status, s.attempts) for s in done.steps] == [
        (StepStatus.SUCCEEDED, 1),
        (StepStatus.SUCCEEDED, 2),
    ]
    # A third delivery of the same job changes nothing.
    assert await c.bus.handle(ExecuteRun(run.id)) is RunStatus.SUCCEEDED
    assert chat.calls == 3


async def test_a_failed_run_job_lands_in_the_dead_letters(
    wf_settings: Settings, chat: FakeChat
) -> None:
    broker = create_broker(wf_settings)
    api = bootstrap(wf_settings, broker=broker)
    worker = EmbeddedWorker(
        broker,
        lambda b: bootstrap(wf_settings, broker=b, cache=MemoryCache()),
        worker_timeout_ms=50,
    )
    worker.start()
    try:
        workflow = await create(api, definition(slack("a", "x", retries=0)))
        chat.fail_next(1, 502)
        run = await start(api, workflow, {})
        await asyncio.to_thread(broker.join, "default", timeout=20_000)
        await asyncio.to_thread(worker.join)
        (dead,) = await rows(api, failed_jobs)
        assert (dead.actor, dead.arguments) == ("run_workflow", {"run_id": str(run.id)})
        assert "RunFailed" in dead.error
        assert (await stored_run(api, run.id)).status is RunStatus.FAILED
    finally:
        worker.stop()
        await api.aclose()


async def test_a_run_of_a_deleted_workflow_is_acknowledged(c: Container) -> None:
    from app.workflows.commands import DeleteWorkflow

    workflow = await create(c, definition(slack("a", "x")))
    run = await start(c, workflow, {})
    assert await c.bus.handle(DeleteWorkflow(workflow.id)) is True
    assert await c.bus.handle(ExecuteRun(run.id)) is None


async def test_a_run_another_worker_holds_is_left_alone_until_stale(
    c: Container, chat: FakeChat
) -> None:
    from datetime import UTC, datetime, timedelta

    from app.workflows.execute import STALE_AFTER_S, RunBusy
    from infrastructure.db.tables import workflow_runs

    workflow = await create(c, definition(slack("a", "x")))
    run = await start(c, workflow, {})

    async def running_since(at: datetime) -> None:
        async with c.engine.begin() as conn:
            await conn.execute(
                update(workflow_runs)
                .where(workflow_runs.c.id == run.id)
                .values(status="running", updated_at=at)
            )

    await running_since(datetime.now(UTC))
    with pytest.raises(RunBusy):
        await c.bus.handle(ExecuteRun(run.id))
    assert chat.calls == 0
    # Its executor died: no progress for longer than any attempt can take.
    await running_since(datetime.now(UTC) - timedelta(seconds=STALE_AFTER_S + 1))
    assert await c.bus.handle(ExecuteRun(run.id)) is RunStatus.SUCCEEDED
    assert chat.texts() == ["x"]
