"""A tiny Slack-style incoming-webhook server on 127.0.0.1, scriptable to fail or be slow.

`POST /slack/{path}` records the JSON body and answers 200 "ok" unless told to fail the next N
calls with a status, or to wait before answering (to exercise step timeouts).
"""

from __future__ import annotations

import asyncio
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from tests.services import free_port
from tests.waiting import until


@dataclass
class FakeChat:
    url: str = ""
    received: list[dict[str, Any]] = field(default_factory=list)
    calls: int = 0
    failures: list[int] = field(default_factory=list)  # statuses of the next answers
    delay_s: float = 0.0
    slow_calls: int = 0  # how many of the next calls wait `delay_s`
    lock: threading.Lock = field(default_factory=threading.Lock)

    def fail_next(self, times: int, status: int = 503) -> None:
        with self.lock:
            self.failures.extend([status] * times)

    def slow_next(self, times: int, delay_s: float) -> None:
        with self.lock:
            self.slow_calls, self.delay_s = times, delay_s

    def texts(self) -> list[str]:
        with self.lock:
            return [r["text"] for r in self.received]

    async def handle(self, request: Request) -> Response:
        body = await request.json()
        with self.lock:
            self.calls += 1
            status = self.failures.pop(0) if self.failures else 200
            wait = self.delay_s if self.slow_calls > 0 else 0.0
            self.slow_calls = max(0, self.slow_calls - 1)
        if wait:  # a scripted slow vendor: held open so the client's timeout fires first
            await asyncio.sleep(wait)
        if status != 200:
            headers = {"retry-after": "0"} if status == 429 else {}
            return PlainTextResponse("fake failure", status, headers)
        with self.lock:
            self.received.append(body)
        return PlainTextResponse("ok")


@contextmanager
def fake_chat() -> Iterator[FakeChat]:
    chat = FakeChat()
    app = Starlette(routes=[Route("/slack/{path:path}", chat.handle, methods=["POST"])])
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="off")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    until(lambda: server.started, timeout_s=10, why="fake chat server did not start", poll_s=0.01)
    chat.url = f"http://127.0.0.1:{port}/slack/T000/B000/xyz"
    try:
        yield chat
    finally:
        server.should_exit = True
        thread.join(timeout=10)


def port_is_closed(port: int) -> bool:
    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", port)) != 0
