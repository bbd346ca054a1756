"""What a caller puts in a run cannot steer it (issue 11, findings 6 and 8): a manual context
cannot carry a key the system fills, a stored one cannot replace the definition's variables,
and a PDF prints placeholder values as text. Both dialects, real chat, SMTP and PDF."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pypdf
import pytest
from sqlalchemy import update

from app.errors import InvalidInput
from app.workflows.commands import ExecuteRun
from domain.workflows.runs import RunStatus
from tests.fake_chat import FakeChat
from tests.integration.workflow_support import create, definition, rows, start, workflow_runs
from tests.smtp_sink import Sink
from visapi.bootstrap import Container, bootstrap
from visapi.settings import Settings


@pytest.fixture
async def c(wf_settings: Settings) -> AsyncIterator[Container]:
    container = bootstrap(wf_settings)
    yield container
    await container.aclose()


def addressed_by_variables() -> dict[str, Any]:
    """Slack and email steps whose destinations come from the definition's variables."""
    doc = definition(
        {
            "id": "tell",
            "type": "slack.send",
            "config": {"channel": "{{variables.team}}", "message": "for {{note}}"},
        },
        {
            "id": "mail",
            "type": "email.send",
            "config": {"recipient": "{{variables.desk}}", "subject": "s", "body": "b"},
        },
    )
    return {**doc, "variables": {"team": "#ops", "desk": "desk@agency.test"}}


@pytest.mark.parametrize("key", ["variables", "order", "steps", "run", "workflow"])
async def test_a_manual_context_cannot_carry_a_key_the_system_fills(c: Container, key: str) -> None:
    workflow = await create(c, addressed_by_variables())
    attacker = {"team": "#attacker", "desk": "evil@attacker.test"}
    with pytest.raises(InvalidInput, match=f"context key '{key}' is reserved") as refused:
        await start(c, workflow, {key: attacker, "note": "x"})
    assert refused.value.field == f"context.{key}"
    assert await rows(c, workflow_runs) == []


async def test_a_stored_context_cannot_replace_the_definitions_variables(
    c: Container, chat: FakeChat, sink: Sink
) -> None:
    """Runs queued before the check (or written by anything else) still go where the
    definition says: the executor puts the variables over whatever the context holds."""
    workflow = await create(c, addressed_by_variables())
    run = await start(c, workflow, {"note": "IL1"})
    forged = {
        "note": "IL1",
        "variables": {"team": "#attacker", "desk": "evil@attacker.test"},
        "steps": {"tell": {"channel": "#attacker"}},
    }
    async with c.engine.begin() as conn:
        await conn.execute(update(workflow_runs).values(context=forged))
    assert await c.bus.handle(ExecuteRun(run.id)) is RunStatus.SUCCEEDED
    assert chat.received == [{"channel": "#ops", "text": "for IL1"}]
    assert [m["To"] for m in sink.messages] == ["desk@agency.test"]


async def test_a_pdf_prints_placeholder_values_as_text(c: Container, tmp_path: Path) -> None:
    """A customer's name is data, not markup: it cannot embed a file or style the receipt."""
    receipt = {
        "id": "receipt",
        "type": "pdf.generate",
        "config": {"template": "<h1>Receipt</h1><p>{{body.name}}</p>", "filename": "r"},
    }
    workflow = await create(c, definition(receipt))
    name = '<img src="file:///etc/passwd"><b>Dana</b>'
    run = await start(c, workflow, {"body": {"name": name}})
    assert await c.bus.handle(ExecuteRun(run.id)) is RunStatus.SUCCEEDED
    page = pypdf.PdfReader(tmp_path / "pdfs" / "r.pdf").pages[0]
    assert name in page.extract_text()
    assert len(page.images) == 0
