"""The fake vendor server itself: its Slack webhook, its control API and the scripts' counts,
which other tests rely on."""

from __future__ import annotations

import hashlib
import hmac
import json

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from tests.vendor import FakeVendor, serving
from tests.waiting import until


def test_the_slack_webhook_accepts_text_or_blocks_and_refuses_the_rest(
    fake_vendor: FakeVendor,
) -> None:
    url = f"{fake_vendor.base_url}/slack/T000/B000/XXX"
    assert httpx.post(url, json={"text": "order IL1 synced"}).text == "ok"
    assert httpx.post(url, json={"blocks": [{"type": "divider"}]}).status_code == 200
    refused = httpx.post(url, json={"channel": "#ops"})
    assert (refused.status_code, refused.text) == (400, "no_text")
    assert httpx.post(url, content=b"not json").status_code == 400
    assert [p["_path"] for p in fake_vendor.slack_posts()] == ["T000/B000/XXX"] * 2
    assert fake_vendor.slack_posts()[0]["text"] == "order IL1 synced"


def test_scripts_count_down_then_answers_return_to_normal(fake_vendor: FakeVendor) -> None:
    url = f"{fake_vendor.base_url}/slack/hook"
    fake_vendor.script("slack.send", "status", status=503, times=2)
    fake_vendor.script("slack.send", "rate_limit", retry_after=9)
    answers = [httpx.post(url, json={"text": "hi"}) for _ in range(4)]
    assert [a.status_code for a in answers] == [503, 503, 429, 200]
    assert answers[2].headers["retry-after"] == "9"
    fake_vendor.script("slack.send", "status", status=500, times=None)
    assert {httpx.post(url, json={"text": "hi"}).status_code for _ in range(3)} == {500}
    fake_vendor.reset()
    assert httpx.post(url, json={"text": "hi"}).status_code == 200
    assert len(fake_vendor.requests()) == 1


@pytest.mark.parametrize(
    ("script", "named"),
    [
        ({"operation": "contact.delete", "outcome": "success"}, "operation"),
        ({"operation": "contact.get", "outcome": "explode"}, "outcome"),
        ({"operation": "contact.get", "outcome": "status", "status": 200}, "status"),
        ({"operation": "contact.get", "outcome": "success", "times": 0}, "times"),
        ({"operation": "contact.get", "outcome": "slow", "delay": -1}, "delay"),
    ],
)
def test_a_bad_script_is_refused_naming_the_value(
    fake_vendor: FakeVendor, script: dict[str, object], named: str
) -> None:
    answer = httpx.post(f"{fake_vendor.base_url}/_fake/script", json=script)
    assert answer.status_code == 400
    assert answer.json()["message"].startswith(named)


def test_accepted_messages_are_reported_to_the_status_webhook_signed_and_retried(
    fake_vendor: FakeVendor,
) -> None:
    """Meta's side of the fake: a `sent` and a `delivered` status of each accepted message,
    signed with the app secret, posted again after an answer other than 2xx."""
    received: list[tuple[bytes, str]] = []
    answers = iter([503])  # the first post is refused, the retry accepted

    async def meta_webhook(request: Request) -> Response:
        received.append((await request.body(), request.headers["x-hub-signature-256"]))
        return Response(status_code=next(answers, 200))

    receiver = Starlette(routes=[Route("/hook", meta_webhook, methods=["POST"])])
    with serving(receiver, "meta-webhook") as url:
        fake_vendor.report_statuses(f"{url}/hook", "app-secret", delay=0)
        phone = "972541112299"
        create = {"phone": phone, "first_name": "Dana"}
        headers = {"X-ACCESS-TOKEN": fake_vendor.token}
        httpx.post(f"{fake_vendor.base_url}/contacts", json=create, headers=headers)
        template = {"name": "order_confirmation_global", "language": {"code": "he"}}
        sent = httpx.post(
            f"{fake_vendor.base_url}/contacts/{phone}/send_content",
            json={"messages": [{"type": "template", "template": template}]},
            headers=headers,
        )
        [message] = sent.json()["messages"]
        until(lambda: fake_vendor.statuses()["posted"] == 1, timeout_s=10, why="the retry")
    assert len(received) == 2
    assert received[0] == received[1]
    raw, signed = received[1]
    assert signed == "sha256=" + hmac.new(b"app-secret", raw, hashlib.sha256).hexdigest()
    [change] = json.loads(raw)["entry"][0]["changes"]
    statuses = change["value"]["statuses"]
    assert [(s["id"], s["status"], s["recipient_id"]) for s in statuses] == [
        (message["id"], "sent", phone),
        (message["id"], "delivered", phone),
    ]
    fake_vendor.reset()
    assert fake_vendor.statuses() == {"on": False, "posted": 1, "owed": 0, "given_up": 0}


@pytest.mark.parametrize(
    ("hook", "named"),
    [
        ({"secret": "s"}, "url"),
        ({"url": "ftp://x", "secret": "s"}, "url"),
        ({"url": "http://x"}, "secret"),
        ({"url": "http://x", "secret": "s", "delay": -1}, "delay"),
        ({"url": "http://x", "secret": "s", "retry_for": True}, "retry_for"),
    ],
)
def test_a_bad_status_webhook_is_refused_naming_the_field(
    fake_vendor: FakeVendor, hook: dict[str, object], named: str
) -> None:
    refused = httpx.post(f"{fake_vendor.base_url}/_fake/statuses", json=hook)
    assert refused.status_code == 400
    assert named in refused.json()["message"]
    assert fake_vendor.statuses()["on"] is False
