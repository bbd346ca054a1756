"""Cron fire times in the trigger's time zone, and the claim name of a schedule."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest

from app.workflows.cron import claim_name, last_fire
from domain.workflows.model import Trigger

# 1 March 2026: Jerusalem is UTC+2 (no daylight saving yet).
NINE_IN_JERUSALEM = datetime(2026, 3, 1, 7, 0, 20, tzinfo=UTC)
WORKFLOW = uuid.UUID(int=1)


@pytest.mark.parametrize(
    ("schedule", "zone", "now", "fired"),
    [
        ("0 9 * * *", "Asia/Jerusalem", NINE_IN_JERUSALEM, datetime(2026, 3, 1, 7, tzinfo=UTC)),
        ("0 9 * * *", "UTC", NINE_IN_JERUSALEM, datetime(2026, 2, 28, 9, tzinfo=UTC)),
        (
            "*/15 * * * *",
            "UTC",
            datetime(2026, 3, 1, 7, 14, 59, tzinfo=UTC),
            datetime(2026, 3, 1, 7, 0, tzinfo=UTC),
        ),
        # After the spring change (29 March) Jerusalem is UTC+3.
        (
            "0 9 * * *",
            "Asia/Jerusalem",
            datetime(2026, 4, 1, 6, 0, 5, tzinfo=UTC),
            datetime(2026, 4, 1, 6, tzinfo=UTC),
        ),
    ],
)
def test_last_fire_honours_the_time_zone(
    schedule: str, zone: str, now: datetime, fired: datetime
) -> None:
    assert last_fire(schedule, zone, now) == fired


def test_a_fire_time_is_due_at_its_own_instant() -> None:
    at = datetime(2026, 3, 1, 9, 0, 0, 999_999, tzinfo=UTC)
    assert last_fire("0 9 * * *", "UTC", at) == datetime(2026, 3, 1, 9, tzinfo=UTC)


def test_one_second_before_a_fire_time_the_previous_one_is_due() -> None:
    at = datetime(2026, 3, 1, 8, 59, 59, tzinfo=UTC)
    assert last_fire("0 9 * * *", "UTC", at) == datetime(2026, 2, 28, 9, tzinfo=UTC)


def test_a_claim_name_is_stable_for_one_schedule() -> None:
    trigger = Trigger("cron", schedule="0 9 * * *", timezone="UTC")
    name = claim_name(WORKFLOW, trigger)
    assert name == claim_name(WORKFLOW, Trigger("cron", schedule="0 9 * * *", timezone="UTC"))
    assert name.startswith(f"cron:{WORKFLOW}:")
    assert len(name.rsplit(":", 1)[1]) == 12


@pytest.mark.parametrize(
    "other",
    [
        Trigger("cron", schedule="0 10 * * *", timezone="UTC"),
        Trigger("cron", schedule="0 9 * * *", timezone="Asia/Jerusalem"),
    ],
)
def test_an_edited_schedule_or_zone_is_a_new_claim(other: Trigger) -> None:
    trigger = Trigger("cron", schedule="0 9 * * *", timezone="UTC")
    assert claim_name(WORKFLOW, other) != claim_name(WORKFLOW, trigger)


def test_two_workflows_with_one_schedule_claim_apart() -> None:
    trigger = Trigger("cron", schedule="0 9 * * *")
    assert claim_name(uuid.UUID(int=2), trigger) != claim_name(WORKFLOW, trigger)
