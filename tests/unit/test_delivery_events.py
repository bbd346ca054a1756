"""record_delivery_events with a fake of its store: every event kept raw, notifications moved
forward only, matched by provider id or by phone within the window, odd bodies kept and marked."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID, uuid4

import pytest

from app.notifications.deliveries import (
    DeliveriesRecorded,
    EventStatus,
    RecordDeliveryEvents,
    record_delivery_events,
)
from tests.fakes import FakeDeliveries, FakeStore, NotificationRow
from tests.unit.handler_support import T0, Clock, new_ids

PHONE = "972541112233"


def status(
    status: str, at: datetime, *, id: str | None = None, phone: str | None = PHONE, **extra: Any
) -> dict[str, Any]:
    raw: dict[str, Any] = {"status": status, "timestamp": str(int(at.timestamp())), **extra}
    if id is not None:
        raw["id"] = id
    if phone is not None:
        raw["recipient_id"] = phone
    return raw


def body(*statuses: dict[str, Any]) -> dict[str, Any]:
    return {"entry": [{"changes": [{"field": "messages", "value": {"statuses": list(statuses)}}]}]}


def notification(
    store: FakeStore, *, sent_at: datetime | None, pid: str | None = None, status: str = "sent"
) -> UUID:
    id = uuid4()
    store.notifications[id] = NotificationRow(
        id=id,
        order_uuid=uuid4(),
        kind="confirmation",
        item="order",
        template="order_confirmation",
        language="en",
        params=[],
        phone=PHONE,
        status=status,
        created_at=T0 - timedelta(minutes=10),
        updated_at=T0 - timedelta(minutes=10),
        provider_message_id=pid,
        sent_at=sent_at,
    )
    return id


@pytest.fixture
def store() -> FakeStore:
    return FakeStore()


@pytest.fixture
def deliveries(store: FakeStore) -> FakeDeliveries:
    return FakeDeliveries(store)


async def record(deliveries: FakeDeliveries, payload: Any, **flags: Any) -> DeliveriesRecorded:
    cmd = RecordDeliveryEvents(payload=payload, **flags)
    return await record_delivery_events(cmd, deliveries=deliveries, now=Clock(), new_id=new_ids())


def statuses(deliveries: FakeDeliveries) -> list[EventStatus]:
    return [row.processing_status for row in deliveries.events.values()]


async def test_a_report_moves_the_notification_with_its_provider_id_forward(
    store: FakeStore, deliveries: FakeDeliveries
) -> None:
    n = notification(store, sent_at=T0, pid="wamid.1")
    at = T0 + timedelta(seconds=30)
    recorded = await record(deliveries, body(status("delivered", at, id="wamid.1")))
    row = store.notifications[n]
    assert (row.status, row.delivered_at) == ("delivered", at)
    assert recorded.counts == {"processed": 1}
    assert statuses(deliveries) == [EventStatus.PROCESSED]


async def test_a_status_never_moves_back(store: FakeStore, deliveries: FakeDeliveries) -> None:
    n = notification(store, sent_at=T0, pid="wamid.1", status="read")
    recorded = await record(deliveries, body(status("delivered", T0, id="wamid.1")))
    assert store.notifications[n].status == "read"
    assert store.notifications[n].delivered_at is None
    # Matched, only stale: processed all the same (nothing for an admin to look at).
    assert recorded.counts == {"processed": 1}


async def test_a_late_sent_after_read_in_one_body_leaves_read(
    store: FakeStore, deliveries: FakeDeliveries
) -> None:
    n = notification(store, sent_at=T0, pid="wamid.1")
    reports = [status("read", T0, id="wamid.1"), status("sent", T0, id="wamid.1")]
    await record(deliveries, body(*reports))
    assert store.notifications[n].status == "read"
    assert len(deliveries.events) == 2  # one row per status


async def test_a_failure_keeps_the_vendors_reason(
    store: FakeStore, deliveries: FakeDeliveries
) -> None:
    n = notification(store, sent_at=T0, pid="wamid.1")
    errors = [{"code": 131026, "title": "Message undeliverable"}]
    await record(deliveries, body(status("failed", T0, id="wamid.1", errors=errors)))
    row = store.notifications[n]
    assert (row.status, row.failed_at) == ("failed", T0)
    assert row.failure_reason == "131026 Message undeliverable"


async def test_a_failure_without_errors_still_says_it_failed(
    store: FakeStore, deliveries: FakeDeliveries
) -> None:
    n = notification(store, sent_at=T0, pid="wamid.1")
    await record(deliveries, body(status("failed", T0, id="wamid.1")))
    assert store.notifications[n].failure_reason == "failed (no reason given)"


async def test_an_unknown_id_matches_by_phone_in_the_window_and_takes_the_id(
    store: FakeStore, deliveries: FakeDeliveries
) -> None:
    n = notification(store, sent_at=T0 - timedelta(minutes=4))
    await record(deliveries, body(status("delivered", T0, id="wamid.9")))
    row = store.notifications[n]
    assert (row.status, row.provider_message_id) == ("delivered", "wamid.9")


async def test_the_phone_match_takes_the_newest_sent_before_the_event(
    store: FakeStore, deliveries: FakeDeliveries
) -> None:
    older = notification(store, sent_at=T0 - timedelta(minutes=3))
    newer = notification(store, sent_at=T0 - timedelta(minutes=1))
    await record(deliveries, body(status("delivered", T0, id="wamid.9")))
    assert store.notifications[newer].status == "delivered"
    assert store.notifications[older].status == "sent"


async def test_a_notification_sent_seconds_after_the_event_matches_by_phone(
    store: FakeStore, deliveries: FakeDeliveries
) -> None:
    n = notification(store, sent_at=T0 + timedelta(seconds=5))
    await record(deliveries, body(status("delivered", T0, id="wamid.9")))
    assert store.notifications[n].status == "delivered"


async def test_a_notification_sent_before_the_window_is_not_matched(
    store: FakeStore, deliveries: FakeDeliveries
) -> None:
    n = notification(store, sent_at=T0 - timedelta(minutes=6))
    recorded = await record(deliveries, body(status("delivered", T0, id="wamid.9")))
    assert store.notifications[n].status == "sent"
    assert recorded.counts == {"unmatched": 1}
    assert statuses(deliveries) == [EventStatus.UNMATCHED]


async def test_a_pending_claim_is_matched_by_phone_and_counts_as_sent(
    store: FakeStore, deliveries: FakeDeliveries
) -> None:
    """A worker died between the vendor's answer and recording it: the statuses of that message
    (an id we never stored) find the `pending` row by its claim's time."""
    n = notification(store, sent_at=None, status="pending")
    store.notifications[n] = replace(store.notifications[n], claimed_at=T0 - timedelta(seconds=3))
    await record(
        deliveries, body(status("sent", T0, id="wamid.9"), status("delivered", T0, id="wamid.9"))
    )
    row = store.notifications[n]
    assert (row.status, row.provider_message_id, row.sent_at) == ("delivered", "wamid.9", T0)


async def test_a_queued_row_is_never_matched_by_phone(
    store: FakeStore, deliveries: FakeDeliveries
) -> None:
    n = notification(store, sent_at=None, status="queued")
    recorded = await record(deliveries, body(status("delivered", T0, id="wamid.9")))
    assert store.notifications[n].status == "queued"
    assert recorded.counts == {"unmatched": 1}


async def test_a_phone_match_skips_a_notification_that_has_its_provider_id(
    store: FakeStore, deliveries: FakeDeliveries
) -> None:
    n = notification(store, sent_at=T0 - timedelta(minutes=1), pid="wamid.1")
    recorded = await record(deliveries, body(status("delivered", T0, id="wamid.2")))
    assert store.notifications[n].status == "sent"
    assert recorded.counts == {"unmatched": 1}


async def test_a_report_without_id_or_phone_is_kept_unmatched(
    store: FakeStore, deliveries: FakeDeliveries
) -> None:
    notification(store, sent_at=T0, pid="wamid.1")
    recorded = await record(deliveries, body(status("delivered", T0, phone=None)))
    assert recorded.counts == {"unmatched": 1}
    assert len(deliveries.events) == 1


async def test_an_untracked_status_is_ignored(store: FakeStore, deliveries: FakeDeliveries) -> None:
    n = notification(store, sent_at=T0, pid="wamid.1")
    recorded = await record(deliveries, body(status("deleted", T0, id="wamid.1")))
    assert store.notifications[n].status == "sent"
    assert recorded.counts == {"ignored": 1}
    assert [r.event.event_type for r in deliveries.events.values()] == ["status.deleted"]


async def test_a_body_without_statuses_is_kept_under_its_change_field(
    deliveries: FakeDeliveries,
) -> None:
    payload = {"entry": [{"changes": [{"field": "messages", "value": {"messages": [{}]}}]}]}
    recorded = await record(deliveries, payload)
    (row,) = deliveries.events.values()
    assert (row.event.event_type, row.event.payload) == ("messages", payload)
    assert recorded.counts == {"ignored": 1}


async def test_a_malformed_body_is_kept_raw_and_marked_failed(deliveries: FakeDeliveries) -> None:
    recorded = await record(deliveries, "{not json", well_formed=False)
    (row,) = deliveries.events.values()
    assert (row.event.payload, row.event.event_type) == ("{not json", None)
    assert row.processing_status is EventStatus.FAILED
    assert recorded.counts == {"failed": 1}


async def test_an_unverified_signature_is_kept_on_the_event(deliveries: FakeDeliveries) -> None:
    await record(deliveries, body(status("sent", T0, id="x")), signature_verified=False)
    (row,) = deliveries.events.values()
    assert row.event.signature_verified is False


async def test_a_nul_in_the_payload_is_replaced_before_it_is_stored(
    store: FakeStore, deliveries: FakeDeliveries
) -> None:
    n = notification(store, sent_at=T0, pid="wamid.1")
    await record(deliveries, body(status("read", T0, id="wamid.1\x00")))
    (row,) = deliveries.events.values()
    assert "\x00" not in repr(row.event.payload)
    assert "\x00" not in (row.event.provider_message_id or "")
    assert store.notifications[n].status == "sent"  # another id: not ours


class Refusing(FakeDeliveries):
    async def apply(self, report: Any, at: datetime) -> Any:
        raise RuntimeError("the database went away")


async def test_a_report_whose_apply_raises_is_kept_and_marked_failed(store: FakeStore) -> None:
    deliveries = Refusing(store)
    recorded = await record(deliveries, body(status("read", T0, id="wamid.1")))
    assert recorded.counts == {"failed": 1}
    assert statuses(deliveries) == [EventStatus.FAILED]
