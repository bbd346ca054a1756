"""The order pipeline end to end, with real processes: the fixture orders posted to the webhook,
a real `visapi worker` against PostgreSQL, Redis and the fake CRM; contacts, messages, statuses,
retries, dead letters and replay checked at the vendor, in the rows and over GraphQL."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.pipeline_support import Run, e2e_run, e2e_settings, il_phone, order_body
from tests.vendor import FakeVendor

pytestmark = [pytest.mark.postgres, pytest.mark.redis]

ORDER = """
query Order($id: ID!) {
  order(id: $id) {
    orderId
    contactSync { synced contactId created attempts errorCount lastErrorCategory lastError }
    notifications { id kind status template language phone providerMessageId sentAt
                    deliveredAt attempts }
  }
}
"""
FAILED_JOBS = """
query { failedJobs(filter: {actor: "sync_contact"}) {
  totalCount edges { node { id actor queue arguments error attempts replayedAt } } } }
"""
REPLAY = """
mutation Replay($id: ID!) {
  replayFailedJob(id: $id) {
    __typename
    ... on FailedJobReplayed { failedJob { replayedAt } }
    ... on FailedJobAlreadyReplayed { message }
  }
}
"""


def status(wamid: str, state: str, phone: str) -> dict[str, Any]:
    at = int(datetime.now(UTC).timestamp())
    return {"id": wamid, "status": state, "timestamp": str(at), "recipient_id": phone}


async def order(run: Run, id: uuid.UUID | str) -> dict[str, Any]:
    found: dict[str, Any] = (await run.graphql(ORDER, id=str(id)))["order"]
    return found


async def sent(run: Run, order_uuid: uuid.UUID) -> list[dict[str, Any]]:
    notes = await run.notes(order_uuid)
    return notes if notes and all(n["status"] == "sent" for n in notes) else []


async def test_the_fixture_orders_through_a_real_worker(
    postgres_url: str, redis_url: str, fake_vendor: FakeVendor, tmp_path: Path
) -> None:
    settings = e2e_settings(postgres_url, redis_url, fake_vendor)
    async with e2e_run(settings, fake_vendor, tmp_path) as run:
        run.procs.worker("worker")
        il = await run.post_order(order_body("il-uk-eta.json"))
        se = await run.post_order(order_body("se-india-uppercase-branch-extra-keys.json"))
        test = await run.post_order(order_body("il-test-order.json"), expected=200)
        assert (il["status"], il["orderId"]) == ("created", "IL251101GB07")
        assert se["status"] == "created"
        assert test["status"] == "skipped"
        assert test["id"] is None
        il_id, se_id = uuid.UUID(il["id"]), uuid.UUID(se["id"])

        [note] = await run.until(lambda: sent(run, il_id), "the il confirmation to be sent")
        await run.until(run.idle, "every queue to be empty")

        # The CRM holds the il client, with the custom fields of the field map.
        contact = fake_vendor.contact(il_phone())
        assert contact is not None
        assert (contact["first_name"], contact["language"]) == ("Avi Cohen", "he")
        custom = contact["custom_fields"]
        assert custom["OrderNumber"] == "IL251101GB07"
        assert custom["customer_name"] == "Avi Cohen"
        assert custom["visa_country"] == "uk"
        assert custom["order_days"] == "3"
        assert custom["wa_alerts"] == "1"
        # The se order is not synced (only `il` orders are, DOMAIN.md), the -TEST one not stored.
        assert [c["phone"] for c in fake_vendor.contacts()] == [il_phone()]
        assert await run.sync_of(se_id) is None
        assert await run.notes(se_id) == []
        assert [j["actor"] for j in await run.jobs()] == ["sync_contact", "send_notification"]

        # Exactly one WhatsApp confirmation: the Hebrew template with its 8 parameters.
        [message] = fake_vendor.messages()
        assert message["phone"] == il_phone()
        assert (message["template"], message["language"]) == ("order_confirmation_global", "he")
        assert len(message["params"]) == 8
        assert message["params"][0] == "Avi Cohen"
        assert message["params"][3] == "IL251101GB07"
        assert message["reference"] == str(note["id"])
        assert note["provider_message_id"] == message["id"]

        # GraphQL shows the same.
        seen = await order(run, il_id)
        assert seen["contactSync"] == {
            "synced": True,
            "contactId": str(contact["id"]),
            "created": True,
            "attempts": 1,
            "errorCount": 0,
            "lastErrorCategory": None,
            "lastError": None,
        }
        [shown] = seen["notifications"]
        assert shown["status"] == "SENT"
        assert (shown["kind"], shown["phone"]) == ("order_confirmation", il_phone())
        assert shown["providerMessageId"] == message["id"]
        assert shown["attempts"] == 1
        assert (await order(run, se_id))["contactSync"] is None

        # Meta reports the delivery (signed); a late `sent` does not move it back.
        answer = await run.whatsapp(status(message["id"], "delivered", il_phone()))
        assert answer.status_code == 200, answer.text
        [shown] = (await order(run, il_id))["notifications"]
        assert shown["status"] == "DELIVERED"
        assert shown["deliveredAt"] is not None
        answer = await run.whatsapp(status(message["id"], "sent", il_phone()))
        assert answer.status_code == 200, answer.text
        [shown] = (await order(run, il_id))["notifications"]
        assert shown["status"] == "DELIVERED"
        assert len(fake_vendor.messages()) == 1


async def test_retries_dead_letters_and_replay(
    postgres_url: str, redis_url: str, fake_vendor: FakeVendor, tmp_path: Path
) -> None:
    settings = e2e_settings(postgres_url, redis_url, fake_vendor)
    async with e2e_run(settings, fake_vendor, tmp_path) as run:
        run.procs.worker("worker")

        # Retries: the CRM answers 503 four times. Each job attempt makes two calls (one
        # in-process retry, VISAPI_CBB_RETRIES=1), so attempts 1 and 2 fail, 3 succeeds.
        fake_vendor.script("contact.get", "status", status=503, times=4)
        flaky = uuid.UUID((await run.post_order(order_body("il-uk-eta.json", 1)))["id"])
        await run.until(lambda: sent(run, flaky), "the flaky order's confirmation")
        sync = (await order(run, flaky))["contactSync"]
        assert sync["synced"] is True
        assert (sync["attempts"], sync["errorCount"]) == (3, 2)
        assert sync["lastErrorCategory"] == "vendor_error"
        assert "contact.get: HTTP 503" in sync["lastError"]
        assert len(fake_vendor.requests("contact.get")) == 5
        assert [m["phone"] for m in fake_vendor.messages()] == [il_phone(1)]
        assert await run.dead_letters() == []

        # A dead letter: the CRM refuses the token once. Permanent: one attempt, no retry.
        fake_vendor.script("contact.get", "status", status=401, times=1)
        refused = uuid.UUID((await run.post_order(order_body("il-uk-eta.json", 2)))["id"])
        [dead] = await run.until(run.dead_letters, "the refused sync's dead letter")
        assert (dead["actor"], dead["queue"], dead["attempts"]) == ("sync_contact", "default", 1)
        assert dead["arguments"] == {"order_id": str(refused)}
        assert "auth" in dead["error"]
        asked = [r for r in fake_vendor.requests("contact.get") if il_phone(2) in r["path"]]
        assert len(asked) == 1
        assert fake_vendor.contact(il_phone(2)) is None
        sync = (await order(run, refused))["contactSync"]
        assert (sync["synced"], sync["attempts"], sync["lastErrorCategory"]) == (False, 1, "auth")
        assert await run.notes(refused) == []
        listed = (await run.graphql(FAILED_JOBS))["failedJobs"]
        assert listed["totalCount"] == 1
        [node] = [e["node"] for e in listed["edges"]]
        assert node["id"] == str(dead["id"])
        assert node["replayedAt"] is None

        # The script is used up (the token works again): replaying syncs and confirms once.
        replayed = (await run.graphql(REPLAY, id=node["id"]))["replayFailedJob"]
        assert replayed["__typename"] == "FailedJobReplayed"
        assert replayed["failedJob"]["replayedAt"] is not None
        await run.until(lambda: sent(run, refused), "the replayed order's confirmation")
        await run.until(run.idle, "every queue to be empty")
        again = (await run.graphql(REPLAY, id=node["id"]))["replayFailedJob"]
        assert again["__typename"] == "FailedJobAlreadyReplayed"
        sync = (await order(run, refused))["contactSync"]
        assert (sync["synced"], sync["attempts"]) == (True, 2)
        assert fake_vendor.contact(il_phone(2)) is not None
        assert sorted(m["phone"] for m in fake_vendor.messages()) == [il_phone(1), il_phone(2)]
        assert len(await run.dead_letters()) == 1
