"""The fake vendor server for tests: started once per session in a thread, driven over HTTP.

`FakeVendor` is what the `fake_vendor` fixture returns: its `base_url` and `token` go into
Settings (`cbb_base_url`, `cbb_token`); `script(...)` makes the next answers of an operation
fail; `requests`, `contacts` and `messages` show what the vendor received and now holds.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import httpx
import uvicorn
from starlette.types import ASGIApp

from infrastructure.vendors.fake_server import create_fake_vendor
from tests.services import free_port
from tests.waiting import until

TOKEN = "fake-cbb-token-5f0c1e"


@dataclass
class FakeVendor:
    base_url: str
    token: str = TOKEN
    _http: httpx.Client = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self._http = httpx.Client(base_url=self.base_url, timeout=10)

    def close(self) -> None:
        self._http.close()

    def _json(self, method: str, path: str, **kwargs: Any) -> Any:
        response = self._http.request(method, path, **kwargs)
        response.raise_for_status()
        return response.json()

    def script(
        self,
        operation: str,
        outcome: str,
        *,
        times: int | None = 1,
        status: int | None = None,
        retry_after: str | int | None = None,
        delay: float | None = None,
        message: str | None = None,
    ) -> None:
        """The next `times` answers of `operation` (None: all of them, until reset):
        outcome success | success_false | status | rate_limit | slow | omit_id."""
        body: dict[str, Any] = {"operation": operation, "outcome": outcome, "times": times}
        for name, value in (
            ("status", status),
            ("retry_after", retry_after),
            ("delay", delay),
            ("message", message),
        ):
            if value is not None:
                body[name] = value
        self._json("POST", "/_fake/script", json=body)

    def requests(self, operation: str | None = None) -> list[dict[str, Any]]:
        params = {"operation": operation} if operation else {}
        found: list[dict[str, Any]] = self._json("GET", "/_fake/requests", params=params)
        return found

    def contacts(self) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = self._json("GET", "/_fake/contacts")
        return found

    def contact(self, phone: str) -> dict[str, Any] | None:
        return next((c for c in self.contacts() if c["phone"] == phone), None)

    def messages(self) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = self._json("GET", "/_fake/messages")
        return found

    def slack_posts(self) -> list[dict[str, Any]]:
        """Bodies the Slack webhook accepted (path in `_path`), oldest first."""
        return [
            {**r["body"], "_path": r["path"].removeprefix("/slack/")}
            for r in self.requests("slack.send")
            if r.get("status") == 200 and isinstance(r["body"], dict)
        ]

    def add_fields(self, **fields: int) -> None:
        """Custom fields beyond the reference registry: name=id."""
        self._json("POST", "/_fake/fields", json={"fields": fields})

    def report_statuses(self, url: str, secret: str, *, delay: float = 0.2) -> None:
        """From now on (until reset), post Meta's `sent` and `delivered` statuses of every
        accepted message to `url`, signed with `secret`, `delay` seconds after accepting it."""
        self._json("POST", "/_fake/statuses", json={"url": url, "secret": secret, "delay": delay})

    def statuses(self) -> dict[str, Any]:
        """{on, posted, owed, given_up} of the status webhooks."""
        found: dict[str, Any] = self._json("GET", "/_fake/statuses")
        return found

    def reset(self) -> None:
        self._json("POST", "/_fake/reset")


@contextmanager
def serving(app: ASGIApp, name: str) -> Iterator[str]:
    """`app` on a free port, served by uvicorn in a daemon thread until the block exits; its
    base URL."""
    port = free_port()
    config = uvicorn.Config(
        app,
        host="127.0.0.1",
        port=port,
        log_level="warning",
        lifespan="off",
        ws="none",
        # Scripted slow answers may still be sleeping when the session ends.
        timeout_graceful_shutdown=1,
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name=name, daemon=True)
    thread.start()

    def started() -> bool:
        assert thread.is_alive(), f"the {name} server's thread died"
        return server.started

    until(started, timeout_s=10, why=f"the {name} server did not start", poll_s=0.01)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


@contextmanager
def fake_vendor_server(token: str = TOKEN) -> Iterator[FakeVendor]:
    """The fake vendor on a free port, until the block exits."""
    with serving(create_fake_vendor(token), "fake-vendor") as url:
        client = FakeVendor(url, token)
        try:
            yield client
        finally:
            client.close()
