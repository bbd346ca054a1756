"""Business logs on both dialects: redacted storage, filtered newest-first reads, stats, and
retention in chunks."""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import event, func, insert, select
from sqlalchemy.ext.asyncio import AsyncEngine

from app import context
from app.logs.ports import LogFilter, LogLevel
from infrastructure.db.engine import create_engine
from infrastructure.db.logs import SqlBusinessLog, SqlLogReads, log_row
from infrastructure.db.retention import prune
from infrastructure.db.tables import logs
from tests.maintenance import run_maintenance
from visapi.bootstrap import bootstrap
from visapi.settings import Settings

NOW = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)
WORKFLOW = uuid.UUID(int=42)


@pytest.fixture
async def engine(db_url: str) -> AsyncIterator[AsyncEngine]:
    e = create_engine(db_url, pool_size=4)
    yield e
    await e.dispose()


async def stored(engine: AsyncEngine) -> list[Any]:
    async with engine.connect() as conn:
        return list((await conn.execute(select(logs).order_by(logs.c.created_at))).all())


async def test_a_log_is_redacted_before_storage_and_flagged(engine: AsyncEngine) -> None:
    writer = SqlBusinessLog(engine, now=lambda: NOW)
    token = context.correlation_id.set("cid-store-1")
    try:
        await writer.write(
            LogLevel.WARN,
            "order IL250819GB16 rejected: bad phone +972-54-111-2233 of avi@example.com",
            metadata={
                "order_id": "IL250819GB16",
                "client": {"email": "avi@example.com", "phone": "0541112233"},
                "card": "4111 1111 1111 1111",
                "password": "hunter2",
                "amount": "165.00",
            },
            workflow_id=WORKFLOW,
        )
        await writer.write(LogLevel.INFO, "order IL250819GB16 received", metadata={"n": 1})
    finally:
        context.correlation_id.reset(token)
    first, second = await stored(engine)
    assert first.message == "order IL250819GB16 rejected: bad phone [PHONE] of [EMAIL]"
    assert first.metadata == {
        "order_id": "IL250819GB16",
        "client": {"email": "[EMAIL]", "phone": "[PHONE]"},
        "card": "[CARD]",
        "password": "[SECRET]",
        "amount": "165.00",
    }
    assert first.pii_redacted is True
    assert (first.level, first.correlation_id, first.workflow_id) == (
        "warn",
        "cid-store-1",
        WORKFLOW,
    )
    assert first.created_at == NOW
    # Nothing to hide: stored as written, not flagged.
    assert (second.message, second.metadata, second.pii_redacted) == (
        "order IL250819GB16 received",
        {"n": 1},
        False,
    )
    assert second.job_id is None


async def test_what_the_penetration_test_slipped_through_is_redacted(engine: AsyncEngine) -> None:
    """Issue 11, finding 7: each of these was stored as written."""
    writer = SqlBusinessLog(engine, now=lambda: NOW)
    await writer.write(
        LogLevel.ERROR,
        "x" * 3990 + " avi.cohen@example.com postgresql://visapi:pw@db/visapi",
        metadata={
            "phone": 507247157,
            "passport": "A1234567",
            "contact": "avi%40example.com / +972.50.724.7157",
            "hook": "https://hooks.slack.com/services/T0/B0/abc",
            "amount": 507247157,
        },
    )
    (row,) = await stored(engine)
    assert row.message == ("x" * 3990 + " [EMAIL] postgresql://visapi:[SECRET]@db/visapi")[:4000]
    assert "avi" not in row.message
    assert row.metadata == {
        "phone": "[PHONE]",
        "passport": "[ID]",
        "contact": "[EMAIL] / [PHONE]",
        "hook": "https://hooks.slack.com/services/[SECRET]",
        "amount": 507247157,
    }
    assert row.pii_redacted is True


async def test_the_job_id_comes_from_the_context(engine: AsyncEngine) -> None:
    writer = SqlBusinessLog(engine)
    token = context.job_id.set("msg-123")
    try:
        await writer.write(LogLevel.INFO, "in a job")
        await writer.write(LogLevel.INFO, "named job", job_id="explicit-9")
    finally:
        context.job_id.reset(token)
    assert [r.job_id for r in await stored(engine)] in (
        ["msg-123", "explicit-9"],
        ["explicit-9", "msg-123"],
    )


async def test_a_failing_write_is_swallowed_and_said(caplog: pytest.LogCaptureFixture) -> None:
    broken = create_engine("sqlite+aiosqlite:////nonexistent-dir/x.db")
    try:
        await SqlBusinessLog(broken).write(LogLevel.ERROR, "lost, but the work goes on")
    finally:
        await broken.dispose()
    [record] = [r for r in caplog.records if r.name == "visapi.logs"]
    assert "could not store business log 'lost, but the work goes on'" in record.getMessage()


def row(i: int, **fields: Any) -> dict[str, Any]:
    values: dict[str, Any] = {
        "level": LogLevel.INFO,
        "message": f"entry {i}",
        "metadata": {"i": i},
        "at": NOW - timedelta(minutes=i),
        "correlation_id": None,
        **fields,
    }
    return log_row(
        values.pop("level"),
        values.pop("message"),
        values.pop("metadata"),
        **values,
    )


async def seed(engine: AsyncEngine, rows: list[dict[str, Any]]) -> None:
    async with engine.begin() as conn:
        await conn.execute(insert(logs), rows)


async def test_filters_and_keyset_pages(engine: AsyncEngine) -> None:
    rows = [
        row(0, level=LogLevel.ERROR, message="Contact sync FAILED for IL1", correlation_id="c-1"),
        row(1, message="contact sync ok 100%", correlation_id="c-1", job_id="job-1"),
        row(2, level=LogLevel.WARN, message="retrying_later", workflow_id=WORKFLOW),
        row(3, message="order IL2 received", metadata={"email": "a@b.io"}),
        row(4, level=LogLevel.ERROR, message="old failure", at=NOW - timedelta(days=2)),
    ]
    # Two rows at the same instant: the id breaks the tie, and no page loses one.
    rows += [row(10 + i, message=f"tie {i}", at=NOW - timedelta(hours=1)) for i in range(3)]
    await seed(engine, rows)
    reads = SqlLogReads(engine)

    async def messages(f: LogFilter) -> list[str]:
        return [v.message for v in (await reads.page(f, 50, None)).items]

    assert await messages(LogFilter(level=LogLevel.ERROR)) == [
        "Contact sync FAILED for IL1",
        "old failure",
    ]
    assert await messages(LogFilter(correlation_id="c-1")) == [
        "Contact sync FAILED for IL1",
        "contact sync ok 100%",
    ]
    assert await messages(LogFilter(job_id="job-1")) == ["contact sync ok 100%"]
    assert await messages(LogFilter(workflow_id=WORKFLOW)) == ["retrying_later"]
    assert await messages(LogFilter(text="sync failure")) == []
    assert await messages(LogFilter(text="SYNC")) == [
        "Contact sync FAILED for IL1",
        "contact sync ok 100%",
    ]
    # LIKE wildcards in the text are literal characters.
    assert await messages(LogFilter(text="100%")) == ["contact sync ok 100%"]
    assert await messages(LogFilter(text="g_l")) == ["retrying_later"]
    assert await messages(LogFilter(text="%")) == ["contact sync ok 100%"]
    window = LogFilter(from_=NOW - timedelta(minutes=3), to=NOW - timedelta(minutes=1))
    assert await messages(window) == ["retrying_later", "order IL2 received"]
    both = LogFilter(level=LogLevel.ERROR, text="fail", from_=NOW - timedelta(days=1))
    assert await messages(both) == ["Contact sync FAILED for IL1"]
    assert await reads.count(LogFilter(level=LogLevel.ERROR)) == 2
    assert await reads.count(LogFilter()) == 8

    seen: list[str] = []
    after = None
    while True:
        page = await reads.page(LogFilter(), 3, after)
        seen += [v.message for v in page.items]
        if not page.has_next:
            break
        after = (page.items[-1].created_at, page.items[-1].id)
    assert len(seen) == len(set(seen)) == 8
    assert seen[:4] == [
        "Contact sync FAILED for IL1",
        "contact sync ok 100%",
        "retrying_later",
        "order IL2 received",
    ]
    assert seen[-1] == "old failure"
    batches = [len(b) async for b in reads.batches(LogFilter(), 3)]
    assert batches == [3, 3, 2]


async def test_stats(engine: AsyncEngine) -> None:
    await seed(
        engine,
        [
            row(0, level=LogLevel.ERROR, message="mail a@b.io"),
            row(1, level=LogLevel.ERROR, at=NOW - timedelta(days=3)),
            row(2, metadata={"phone": "+972541112233"}),
            row(3, level=LogLevel.DEBUG, at=NOW - timedelta(hours=23)),
        ],
    )
    stats = await SqlLogReads(engine).stats(NOW)
    assert stats.total == 4
    assert stats.by_level == {"error": 2, "info": 1, "debug": 1}
    assert stats.with_pii == 2
    assert stats.last_24h == 3
    empty = await SqlLogReads(engine).stats(NOW + timedelta(days=10))
    assert empty.total == 4
    assert empty.last_24h == 0


async def test_retention_deletes_in_chunks_until_done(engine: AsyncEngine) -> None:
    old = [row(i, at=NOW - timedelta(days=31, seconds=i)) for i in range(23)]
    young = [row(100 + i, at=NOW - timedelta(days=29, seconds=i)) for i in range(4)]
    await seed(engine, old + young)
    deletes: list[int] = []

    @event.listens_for(engine.sync_engine, "after_execute")
    def count(conn: Any, clause: Any, *args: Any) -> None:
        if getattr(clause, "is_delete", False):
            deletes.append(1)

    deleted = await prune(engine, "logs", NOW - timedelta(days=30), batch=5)
    assert deleted == 23
    assert len(deletes) == 5  # 5 + 5 + 5 + 5 + 3: each DELETE its own statement
    async with engine.connect() as conn:
        left = await conn.scalar(select(func.count()).select_from(logs))
    assert left == 4
    assert await prune(engine, "logs", NOW - timedelta(days=30), batch=5) == 0


async def test_the_periodic_runner_applies_the_retention_settings(settings: Settings) -> None:
    settings = dataclasses.replace(settings, log_retention_days=30, log_retention_batch=3)
    container = bootstrap(settings)
    try:
        now = datetime.now(UTC)
        old = [row(i, at=now - timedelta(days=30, minutes=5 + i)) for i in range(7)]
        await seed(container.engine, [*old, row(1, at=now - timedelta(days=29)), row(2, at=now)])
        deletes: list[int] = []

        @event.listens_for(container.engine.sync_engine, "after_execute")
        def count(conn: Any, clause: Any, *args: Any) -> None:
            if getattr(clause, "is_delete", False) and clause.table is logs:
                deletes.append(1)

        ran = await run_maintenance(container)
        assert "log_retention" in ran
        assert len(deletes) == 3  # 3 + 3 + 1
        assert len(await stored(container.engine)) == 2
    finally:
        await container.aclose()
