"""The fake vendor server itself: its Slack webhook, its control API and the scripts' counts,
which other tests rely on."""

from __future__ import annotations

import httpx
import pytest

from tests.vendor import FakeVendor


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
