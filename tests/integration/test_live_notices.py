"""Notices leave a unit of work only once it has committed, on both dialects: what it announced,
then what its domain events and log lines say; a unit that rolls back (or never commits)
announces nothing."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import UTC, datetime

from app.live import Notice, OrderEventType, Topic, order_notice
from app.logs.ports import LogLevel
from infrastructure.db.engine import create_engine
from infrastructure.db.uow import SqlUnitOfWork


class Recorder:
    def __init__(self) -> None:
        self.notices: list[Notice] = []

    async def publish(self, notices: Sequence[Notice]) -> None:
        self.notices.extend(notices)


async def test_notices_follow_the_commit_and_never_a_rollback(db_url: str) -> None:
    engine = create_engine(db_url, pool_size=2)
    recorder = Recorder()
    announced = order_notice(OrderEventType.CONTACT_SYNCED, uuid.uuid4(), datetime.now(UTC))
    try:
        async with SqlUnitOfWork(engine, jobs_for=lambda e: [], registry={}, feed=recorder) as unit:
            unit.announce([announced])
            unit.logs.add(LogLevel.INFO, "rolled back")
            await unit.rollback()
        async with SqlUnitOfWork(engine, jobs_for=lambda e: [], registry={}, feed=recorder) as unit:
            unit.announce([announced])  # left without a commit
        assert recorder.notices == []
        async with SqlUnitOfWork(engine, jobs_for=lambda e: [], registry={}, feed=recorder) as unit:
            unit.announce([announced])
            unit.logs.add(LogLevel.WARN, "write to a@b.example")
            await unit.commit()
    finally:
        await engine.dispose()
    first, line = recorder.notices
    assert first == announced
    assert line.topic is Topic.LOGS
    assert line.data["message"] == "write to [EMAIL]"  # as stored: redacted
