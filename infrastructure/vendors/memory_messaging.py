"""A stand-in Messaging adapter kept in memory, until the sandbox adapter that records into
`sandbox_messages` is wired in its place (the vendors work of issue 5)."""

from __future__ import annotations

import threading
import uuid

from app.notifications.ports import TemplateMessage


class InMemoryMessaging:
    """Implements `Messaging`: keeps what would be sent, answers a made-up message id."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._sent: list[TemplateMessage] = []

    async def send_template(self, message: TemplateMessage) -> str | None:
        with self._lock:
            self._sent.append(message)
        return f"mem_{uuid.uuid4().hex}"

    def sent(self) -> list[TemplateMessage]:
        with self._lock:
            return list(self._sent)
