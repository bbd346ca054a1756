"""Vendor calls and workflow ends on /metrics, scraped over HTTP from the embedded app: every
CBB request by operation and outcome (ok, or the failure's category), Slack and SMTP step
calls, and each run's final status."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from app.workflows.commands import CreateWorkflow, StartRun
from tests.auth import key, running
from tests.scrape import create_order, order_body, scrape
from tests.smtp_sink import smtp_sink
from tests.vendor import FakeVendor
from tests.waiting import eventually
from visapi.bootstrap import Container
from visapi.settings import Settings

VENDOR = "visapi_vendor_call_duration_seconds_count"
RUNS = "visapi_workflow_runs_total"


def embedded(sqlite_url: str, fake_vendor: FakeVendor, **changes: Any) -> Settings:
    # No retries anywhere: each failure is one request and one final job outcome.
    return replace(
        Settings(database_url=sqlite_url),
        api_key_hash_cost="low",
        job_max_retries=0,
        cbb_base_url=fake_vendor.base_url,
        cbb_token=fake_vendor.token,
        cbb_retries=0,
        **changes,
    )


async def test_cbb_calls_by_operation_and_outcome(sqlite_url: str, fake_vendor: FakeVendor) -> None:
    async with running(embedded(sqlite_url, fake_vendor)) as (container, client):
        admin = {"X-API-Key": await key(container, "admin")}
        await create_order(client, admin, order_body())

        async def counted(operation: str, outcome: str, count: int) -> bool:
            samples = await scrape(client)
            return (
                samples.get_value(VENDOR, vendor="cbb", operation=operation, outcome=outcome)
                == count
            )

        # A new contact: looked up, created with its fields, then the confirmation sent; each
        # request the fake vendor received is one call counted.
        await eventually(lambda: counted("message.send", "ok", 1))
        samples = await scrape(client)
        for operation in ("contact.get", "contact.create", "message.send"):
            assert len(fake_vendor.requests(operation)) == 1
            ok = samples.get_value(VENDOR, vendor="cbb", operation=operation, outcome="ok")
            assert ok == 1, operation

        fake_vendor.script("contact.get", "status", status=503)
        second = order_body()
        second["form"]["client"]["phone"]["number"] = "0541112299"  # another new contact
        await create_order(client, admin, second)
        await eventually(lambda: counted("contact.get", "vendor_error", 1))
        fake_vendor.script("contact.get", "status", status=401)
        third = order_body()
        third["form"]["client"]["phone"]["number"] = "0541112288"
        await create_order(client, admin, third)
        await eventually(lambda: counted("contact.get", "auth", 1))
        samples = await scrape(client)
        assert samples.get_value(VENDOR, vendor="cbb", operation="contact.get", outcome="ok") == 1
        assert (
            samples.get_value(VENDOR, vendor="cbb", operation="contact.create", outcome="ok") == 1
        )
        # Labels are the operation names and the fixed outcomes: no phone, path or message.
        assert samples.label_values(VENDOR, "outcome") == {"ok", "vendor_error", "auth"}
        assert samples.label_values(VENDOR, "operation") <= {
            "contact.get",
            "contact.create",
            "field.update",
            "message.send",
        }


def follow_up(*steps: dict[str, Any]) -> dict[str, Any]:
    return {"name": "metered", "triggers": [{"type": "manual"}], "steps": list(steps)}


SLACK = {"id": "tell", "type": "slack.send", "config": {"channel": "#ops", "message": "hi"}}
MAIL = {
    "id": "mail",
    "type": "email.send",
    "config": {"recipient": "ops@example.test", "subject": "s", "body": "b"},
}


async def run_to_the_end(c: Container, workflow_id: Any, client: Any, status: str, n: int) -> None:
    await c.bus.handle(StartRun(workflow_id, "manual", {}))

    async def ended() -> bool:
        return (await scrape(client)).get_value(RUNS, status=status) == n

    await eventually(ended)


async def test_workflow_ends_and_step_vendor_calls(
    sqlite_url: str, fake_vendor: FakeVendor
) -> None:
    with smtp_sink() as sink:
        settings = embedded(
            sqlite_url,
            fake_vendor,
            slack_webhook_url=f"{fake_vendor.base_url}/slack/T000/B000",
            email_host="127.0.0.1",
            email_port=sink.port,
        )
        async with running(settings) as (c, client):
            before = await scrape(client)
            assert before.get_value(RUNS, status="succeeded") == 0
            workflow = await c.bus.handle(CreateWorkflow(follow_up(SLACK, MAIL)))
            await run_to_the_end(c, workflow.id, client, "succeeded", 1)
            samples = await scrape(client)
            assert (
                samples.get_value(VENDOR, vendor="slack", operation="message.post", outcome="ok")
                == 1
            )
            assert (
                samples.get_value(VENDOR, vendor="smtp", operation="mail.send", outcome="ok") == 1
            )
            assert len(sink.messages) == 1

            # A revoked webhook (403: permanent, no step retry): the run fails, counted once.
            fake_vendor.script("slack.send", "status", status=403, times=None)
            await run_to_the_end(c, workflow.id, client, "failed", 1)
            samples = await scrape(client)
            assert (
                samples.get_value(VENDOR, vendor="slack", operation="message.post", outcome="auth")
                == 1
            )
            assert samples.get_value(RUNS, status="succeeded") == 1
            assert (
                samples.get_value(VENDOR, vendor="smtp", operation="mail.send", outcome="ok") == 1
            )
