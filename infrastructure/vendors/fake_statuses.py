"""The fake vendor's delivery webhooks: what Meta does after the CRM accepted a message.

Off until a test or a run turns it on with `POST /_fake/statuses` {url, secret, delay, retry_for}:
then every message `send_content` accepts is reported `delay` seconds later to `url` as one
Meta-style body with a `sent` and a `delivered` status (its `wamid`, the phone, unix seconds),
signed `X-Hub-Signature-256` with `secret` as Meta signs with the app secret. An answer other
than 2xx, or no answer, is retried every second for `retry_for` seconds, as Meta retries.
`POST /_fake/reset` turns it off. `GET /_fake/statuses` tells what was posted and what is still
owed.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import json
import time
from dataclasses import dataclass
from typing import Any

import httpx

RETRY_PAUSE_S = 1.0


class StatusHookError(ValueError):
    """A `POST /_fake/statuses` body that cannot be used; the message says which field."""


@dataclass(frozen=True)
class StatusHook:
    url: str
    secret: str
    delay_s: float = 1.0
    retry_for_s: float = 300.0

    @classmethod
    def parse(cls, data: Any) -> StatusHook:
        if not isinstance(data, dict):
            raise StatusHookError('send {"url": ..., "secret": ..., "delay": s, "retry_for": s}')
        url, secret = data.get("url"), data.get("secret")
        if not isinstance(url, str) or not url.startswith(("http://", "https://")):
            raise StatusHookError("url must be an http(s) URL")
        if not isinstance(secret, str) or not secret:
            raise StatusHookError("secret must be a non-empty string (the app secret)")
        numbers = {k: data.get(k, d) for k, d in (("delay", 1.0), ("retry_for", 300.0))}
        for name, value in numbers.items():
            if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
                raise StatusHookError(f"{name} must be a non-negative number of seconds")
        return cls(url, secret, float(numbers["delay"]), float(numbers["retry_for"]))


def status_body(message_id: str, phone: str, at: float) -> dict[str, Any]:
    stamp, phone = str(int(at)), "".join(c for c in phone if c.isdigit())
    statuses = [
        {"id": message_id, "status": s, "timestamp": stamp, "recipient_id": phone}
        for s in ("sent", "delivered")
    ]
    value = {"messaging_product": "whatsapp", "statuses": statuses}
    return {
        "object": "whatsapp_business_account",
        "entry": [{"changes": [{"field": "messages", "value": value}]}],
    }


def signature(secret: str, raw: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), raw, hashlib.sha256).hexdigest()


class StatusReporter:
    """Posts the statuses of accepted messages in the background of the fake's event loop."""

    def __init__(self) -> None:
        self.hook: StatusHook | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self.posted = 0
        self.given_up = 0

    def configure(self, hook: StatusHook | None) -> None:
        self.hook = hook
        if hook is None:
            for task in self._tasks:
                task.cancel()

    def accepted(self, message_id: str, phone: str) -> None:
        hook = self.hook
        if hook is None:
            return
        task = asyncio.get_running_loop().create_task(self._report(hook, message_id, phone))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def summary(self) -> dict[str, Any]:
        return {
            "on": self.hook is not None,
            "posted": self.posted,
            "owed": len(self._tasks),
            "given_up": self.given_up,
        }

    async def _report(self, hook: StatusHook, message_id: str, phone: str) -> None:
        await asyncio.sleep(hook.delay_s)
        raw = json.dumps(status_body(message_id, phone, time.time())).encode()
        headers = {
            "content-type": "application/json",
            "x-hub-signature-256": signature(hook.secret, raw),
        }
        give_up_at = time.monotonic() + hook.retry_for_s
        async with httpx.AsyncClient(timeout=10) as client:
            while True:
                with contextlib.suppress(httpx.HTTPError):
                    answer = await client.post(hook.url, content=raw, headers=headers)
                    if answer.is_success:
                        self.posted += 1
                        return
                if time.monotonic() >= give_up_at:
                    self.given_up += 1
                    return
                await asyncio.sleep(RETRY_PAUSE_S)
