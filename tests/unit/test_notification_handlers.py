"""send_notification and its recording on the fake unit of work: the claim, the send, a stale
claim taken over, vendor failures, and the recording handed to a job of its own."""

from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import timedelta

import pytest

from app.errors import Unavailable
from app.jobs import RetryLater
from app.notifications.commands import RecordSent, SendNotification, SendOutcome
from app.notifications.handlers import RACE_RETRY_MS, send_notification
from app.notifications.ports import NewNotification
from app.notifications.recording import RECORD_JOB, record_accepted, record_notification_sent
from app.vendors import VendorError
from tests.fakes import FakeJobs, FakeMessaging, FakeStore, FakeUnitOfWorkFactory, NotificationRow
from tests.unit.handler_support import T0, Clock

STALE_S = 300.0


class World:
    def __init__(self) -> None:
        self.uow = FakeUnitOfWorkFactory()
        self.store: FakeStore = self.uow.store
        self.wa = FakeMessaging()
        self.jobs = FakeJobs()
        self.clock = Clock()
        self.tokens = iter(f"token-{n}" for n in range(1, 100))

    async def queued(self, **changes: object) -> NotificationRow:
        row = NewNotification(
            id=uuid.uuid4(),
            order_uuid=uuid.uuid4(),
            kind="order_confirmation",
            item="",
            template="order_confirmation_global",
            language="he",
            params=["Avi", "UK"],
            phone="972541112233",
            created_at=T0,
        )
        async with self.uow() as unit:
            assert await unit.notifications.add(row)
            await unit.commit()
        if changes:
            self.store.notifications[row.id] = replace(self.store.notifications[row.id], **changes)
        return self.store.notifications[row.id]

    async def send(self, nid: uuid.UUID, *, record_for_s: float = 10.0) -> SendOutcome:
        return await send_notification(
            SendNotification(nid),
            uow=self.uow,
            messaging=self.wa,
            now=self.clock,
            new_token=lambda: next(self.tokens),
            stale_claim_s=STALE_S,
            jobs=self.jobs,
            record_for_s=record_for_s,
        )


@pytest.fixture
def world() -> World:
    return World()


async def test_a_queued_notification_is_sent_once_with_its_params(world: World) -> None:
    row = await world.queued()
    assert await world.send(row.id) is SendOutcome.SENT
    [message] = world.wa.sent
    assert (message.phone, message.template, message.language) == (row.phone, row.template, "he")
    assert list(message.params) == ["Avi", "UK"]
    assert message.reference == str(row.id)


async def test_a_sent_notification_records_status_time_and_provider_id(world: World) -> None:
    row = await world.queued()
    await world.send(row.id)
    done = world.store.notifications[row.id]
    assert (done.status, done.sent_at, done.provider_message_id) == ("sent", T0, "wamid.1")
    assert (done.claim_token, done.attempts) == (None, 1)


async def test_a_redelivered_job_of_a_sent_notification_sends_nothing(world: World) -> None:
    row = await world.queued()
    await world.send(row.id)
    assert await world.send(row.id) is SendOutcome.ALREADY_SENT
    assert world.wa.calls == 1


async def test_an_unknown_notification_is_acknowledged(world: World) -> None:
    assert await world.send(uuid.uuid4()) is SendOutcome.UNKNOWN
    assert world.wa.calls == 0


async def test_a_failed_notification_is_not_sent_again(world: World) -> None:
    row = await world.queued(status="failed")
    assert await world.send(row.id) is SendOutcome.FAILED_BEFORE
    assert world.wa.calls == 0


async def test_a_fresh_claim_of_another_attempt_is_retried_when_it_turns_stale(
    world: World,
) -> None:
    row = await world.queued(status="pending", claimed_at=T0, claim_token="theirs")
    world.clock.advance(60)
    with pytest.raises(RetryLater) as raised:
        await world.send(row.id)
    assert raised.value.delay_ms == 240_001  # the 300 s window less the 60 s gone, plus 1 ms
    assert world.wa.calls == 0


async def test_a_pending_row_without_claim_time_is_retried_soon(world: World) -> None:
    row = await world.queued(status="pending", claimed_at=None, claim_token="theirs")
    with pytest.raises(RetryLater) as raised:
        await world.send(row.id)
    assert raised.value.delay_ms == RACE_RETRY_MS


async def test_a_stale_claim_is_taken_over_and_sent(world: World) -> None:
    row = await world.queued(status="pending", claimed_at=T0, claim_token="dead", attempts=1)
    world.clock.advance(STALE_S + 1)
    assert await world.send(row.id) is SendOutcome.SENT
    done = world.store.notifications[row.id]
    assert (done.status, done.attempts) == ("sent", 2)


async def test_a_claim_exactly_at_the_stale_edge_still_holds(world: World) -> None:
    row = await world.queued(status="pending", claimed_at=T0, claim_token="theirs")
    world.clock.advance(STALE_S)
    with pytest.raises(RetryLater):
        await world.send(row.id)
    assert world.wa.calls == 0


async def test_a_transient_vendor_failure_releases_the_claim(world: World) -> None:
    row = await world.queued()
    world.wa.failures.append(VendorError("network", "reset"))
    with pytest.raises(VendorError):
        await world.send(row.id)
    back = world.store.notifications[row.id]
    assert (back.status, back.claim_token, back.failure_reason) == (
        "queued",
        None,
        "network: reset",
    )


async def test_after_a_released_claim_the_retry_sends(world: World) -> None:
    row = await world.queued()
    world.wa.failures.append(VendorError("rate_limit", "slow down"))
    with pytest.raises(VendorError):
        await world.send(row.id)
    assert await world.send(row.id) is SendOutcome.SENT
    done = world.store.notifications[row.id]
    assert (done.status, done.attempts, done.failure_reason) == ("sent", 2, None)


async def test_a_permanent_vendor_failure_marks_the_row_failed(world: World) -> None:
    row = await world.queued()
    world.wa.failures.append(VendorError("validation", "template rejected"))
    with pytest.raises(VendorError):
        await world.send(row.id)
    failed = world.store.notifications[row.id]
    assert (failed.status, failed.failed_at) == ("failed", T0)
    assert failed.failure_reason == "validation: template rejected"


async def test_an_unexpected_error_releases_the_claim_naming_it(world: World) -> None:
    row = await world.queued()
    world.wa.failures.append(KeyError("boom"))
    with pytest.raises(KeyError):
        await world.send(row.id)
    back = world.store.notifications[row.id]
    assert back.status == "queued"
    assert back.failure_reason == "KeyError: 'boom'"


async def test_a_send_leaves_no_job_when_the_recording_succeeds(world: World) -> None:
    row = await world.queued()
    await world.send(row.id)
    assert world.jobs.published == []


async def test_a_database_away_after_the_send_hands_the_recording_to_a_job(world: World) -> None:
    row = await world.queued()
    world.store.refusals += [None, Unavailable("database away")]
    assert await world.send(row.id, record_for_s=0) is SendOutcome.SENT
    [job] = world.jobs.published
    assert job.actor == RECORD_JOB
    assert dict(job.arguments) == {
        "notification_id": str(row.id),
        "claim_token": "token-1",
        "provider_message_id": "wamid.1",
    }
    assert world.store.notifications[row.id].status == "pending"


async def test_the_handed_over_job_records_the_send(world: World) -> None:
    row = await world.queued()
    world.store.refusals += [None, Unavailable("database away")]
    await world.send(row.id, record_for_s=0)
    args = world.jobs.published[0].arguments
    cmd = RecordSent(row.id, args["claim_token"], args["provider_message_id"])
    assert await record_notification_sent(cmd, uow=world.uow, now=world.clock) is True
    done = world.store.notifications[row.id]
    assert (done.status, done.provider_message_id) == ("sent", "wamid.1")


async def test_with_database_and_broker_away_the_send_fails_the_job(world: World) -> None:
    row = await world.queued()
    world.store.refusals += [None, Unavailable("database away")]
    world.jobs.failures.append(ConnectionError("broker away"))
    with pytest.raises(Unavailable):
        await world.send(row.id, record_for_s=0)
    assert world.wa.calls == 1
    assert world.jobs.published == []


async def test_a_recording_whose_claim_was_taken_over_reports_false(world: World) -> None:
    row = await world.queued(status="pending", claimed_at=T0, claim_token="newer")
    cmd = RecordSent(row.id, "older", "wamid.9")
    assert await record_notification_sent(cmd, uow=world.uow, now=world.clock) is False
    assert world.store.notifications[row.id].claim_token == "newer"


async def test_a_recording_of_an_already_sent_row_changes_nothing(world: World) -> None:
    row = await world.queued()
    await world.send(row.id)
    cmd = RecordSent(row.id, "token-1", "wamid.other")
    assert await record_notification_sent(cmd, uow=world.uow, now=world.clock) is False
    assert world.store.notifications[row.id].provider_message_id == "wamid.1"


async def test_a_recording_of_an_unknown_row_is_acknowledged(world: World) -> None:
    cmd = RecordSent(uuid.uuid4(), "t", None)
    assert await record_notification_sent(cmd, uow=world.uow, now=world.clock) is False


async def test_record_accepted_records_at_once_when_the_database_answers(world: World) -> None:
    row = await world.queued(status="pending", claimed_at=T0, claim_token="mine")
    cmd = RecordSent(row.id, "mine", "wamid.5")
    recorded = await record_accepted(
        cmd, uow=world.uow, jobs=world.jobs, now=world.clock, deadline=float("inf")
    )
    assert recorded is True
    assert world.jobs.published == []
    assert world.store.notifications[row.id].sent_at == T0


async def test_record_accepted_past_its_deadline_leaves_it_to_the_job(world: World) -> None:
    row = await world.queued(status="pending", claimed_at=T0, claim_token="mine")
    world.store.refusals.append(Unavailable("away"))
    cmd = RecordSent(row.id, "mine", None)
    recorded = await record_accepted(
        cmd, uow=world.uow, jobs=world.jobs, now=world.clock, deadline=0.0
    )
    assert recorded is None
    assert [j.arguments["claim_token"] for j in world.jobs.published] == ["mine"]


async def test_a_stale_claim_taken_over_after_a_retry_keeps_the_first_claim_out(
    world: World,
) -> None:
    row = await world.queued(status="pending", claimed_at=T0, claim_token="dead")
    world.clock.advance(STALE_S + timedelta(seconds=1).total_seconds())
    await world.send(row.id)
    late = RecordSent(row.id, "dead", "wamid.late")
    assert await record_notification_sent(late, uow=world.uow, now=world.clock) is False
    assert world.store.notifications[row.id].provider_message_id == "wamid.1"
