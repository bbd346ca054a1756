"""The recording job of a sent message, while the database is away: deferred every second, not
failed (a failed retry backs off to minutes and runs out, and a redelivered send waiting for
the claim to turn stale would win the race once the database is back)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from types import TracebackType
from typing import Any

import pytest

from app.errors import Unavailable
from app.jobs import RetryLater
from app.notifications.commands import RecordSent
from app.notifications.recording import RECORD_RETRY_MS, record_notification_sent


class AwayUnit:
    """A unit of work whose database cannot be reached (as infrastructure/db/uow.py raises)."""

    def __init__(self, error: Exception) -> None:
        self.error = error

    async def __aenter__(self) -> Any:
        raise self.error

    async def __aexit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        return None


def away(error: Exception) -> Any:
    return lambda **_: AwayUnit(error)


CMD = RecordSent(uuid.uuid4(), "claim-token", "provider-1")


def now() -> datetime:
    return datetime(2026, 12, 7, tzinfo=UTC)


async def test_a_database_away_defers_the_recording_every_second() -> None:
    with pytest.raises(RetryLater) as raised:
        await record_notification_sent(CMD, uow=away(Unavailable("database away")), now=now)
    assert raised.value.delay_ms == RECORD_RETRY_MS == 1_000
    assert str(CMD.notification_id) in str(raised.value)


async def test_other_errors_are_failures_the_broker_retries() -> None:
    with pytest.raises(ValueError, match="not an outage"):
        await record_notification_sent(CMD, uow=away(ValueError("not an outage")), now=now)
