"""Sandbox vendors: record what would be sent instead of calling the CRM; scriptable failures.

Bootstrap gives them the container's engine: each record is a `sandbox_messages` row, so the
API (the `sandboxMessages` query) sees what separate worker processes recorded, and a contact
the sandbox created in any process is known to all. Without an engine (tests that share one
scripted instance between containers on different loops) records stay in the instance.
"""

from __future__ import annotations

import asyncio
import hashlib
import threading
import uuid
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncEngine

from app.contacts.ports import Contact, ContactSyncError
from app.notifications.ports import MessagingError, TemplateMessage
from app.vendors import VendorError
from infrastructure.db.tables import sandbox_messages

VENDOR = "cbb"


@dataclass(frozen=True)
class SandboxContact:
    contact_id: str
    contact: Contact
    upserts: int


class _Script:
    """Failure scripting shared by the sandboxes; thread-safe (API and embedded worker threads)."""

    error: type[VendorError] = VendorError

    def __init__(self, engine: AsyncEngine | None = None) -> None:
        self._engine = engine
        self._lock = threading.Lock()
        self._failures: deque[VendorError] = deque()
        self._always: VendorError | None = None
        self.calls = 0
        self.latency_s = 0.0  # simulated vendor latency, e.g. to exercise job time limits

    def fail_next(self, times: int, category: str = "network", message: str = "sandbox") -> None:
        """Make the next `times` calls raise `error(category, message)`."""
        with self._lock:
            self._failures.extend(self.error(category, message) for _ in range(times))

    def fail_always(self, category: str | None = "vendor_error", message: str = "sandbox") -> None:
        """Make every call fail until called again with `category=None`."""
        with self._lock:
            self._always = self.error(category, message) if category else None

    async def _begin_call(self) -> None:
        """Count the call and raise the scripted failure, if any."""
        if self.latency_s:
            await asyncio.sleep(self.latency_s)
        with self._lock:
            self.calls += 1
            if self._always is not None:
                raise self.error(self._always.category, self._always.message)
            if self._failures:
                raise self._failures.popleft()

    async def _record(self, operation: str, phone: str, payload: dict[str, Any]) -> None:
        if self._engine is None:
            return
        async with self._engine.begin() as conn:
            await conn.execute(
                insert(sandbox_messages).values(
                    id=uuid.uuid4(),
                    vendor=VENDOR,
                    operation=operation,
                    phone=phone,
                    payload=payload,
                    # From here, not the server: SQLite's clock has whole seconds only, and
                    # the newest-first list needs the order of records made in one second.
                    created_at=datetime.now(UTC),
                )
            )


class SandboxContactSync(_Script):
    """Implements `ContactSync`, keyed by phone like the CRM; ids derived from the phone so
    they are stable across restarts and processes."""

    error = ContactSyncError

    def __init__(self, engine: AsyncEngine | None = None) -> None:
        super().__init__(engine)
        self._contacts: dict[str, SandboxContact] = {}

    async def upsert(self, contact: Contact) -> tuple[str, bool]:
        await self._begin_call()
        contact_id = _contact_id(contact.phone)
        created = not await self._known(contact.phone)
        await self._record(
            "contact.create" if created else "contact.update",
            contact.phone,
            _contact_payload(contact_id, contact),
        )
        with self._lock:
            known = self._contacts.get(contact.phone)
            upserts = known.upserts + 1 if known else 1
            self._contacts[contact.phone] = SandboxContact(contact_id, contact, upserts)
        return contact_id, created

    async def _known(self, phone: str) -> bool:
        if self._engine is None:
            with self._lock:
                return phone in self._contacts
        query = (
            select(sandbox_messages.c.id)
            .where(
                sandbox_messages.c.vendor == VENDOR,
                sandbox_messages.c.operation == "contact.create",
                sandbox_messages.c.phone == phone,
            )
            .limit(1)
        )
        async with self._engine.connect() as conn:
            return (await conn.execute(query)).first() is not None

    def contacts(self) -> list[SandboxContact]:
        """What this instance sent to the CRM, in first-seen order."""
        with self._lock:
            return list(self._contacts.values())


@dataclass(frozen=True)
class SandboxMessage:
    provider_message_id: str
    message: TemplateMessage


class SandboxMessaging(_Script):
    """Implements `Messaging`: one record per message; returns a generated provider id."""

    error = MessagingError

    def __init__(
        self, engine: AsyncEngine | None = None, new_id: Callable[[], str] | None = None
    ) -> None:
        super().__init__(engine)
        self._new_id = new_id or (lambda: f"sbx_msg_{uuid.uuid4().hex}")
        self._messages: list[SandboxMessage] = []

    async def send_template(self, message: TemplateMessage) -> str | None:
        await self._begin_call()
        provider_id = self._new_id()
        payload = {
            "template": message.template,
            "language": message.language,
            "params": list(message.params),
            "reference": message.reference,
            "provider_message_id": provider_id,
        }
        await self._record("message.send", message.phone, payload)
        with self._lock:
            self._messages.append(SandboxMessage(provider_id, message))
        return provider_id

    def messages(self) -> list[SandboxMessage]:
        """What this instance sent, oldest first."""
        with self._lock:
            return list(self._messages)


def _contact_payload(contact_id: str, contact: Contact) -> dict[str, Any]:
    return {
        "contact_id": contact_id,
        "name": contact.name,
        "email": contact.email,
        "language": contact.language,
        "gender": contact.gender,
        "fields": [
            {"name": f.name, "field_id": f.field_id, "type": int(f.type), "value": f.value}
            for f in contact.fields
        ],
    }


def _contact_id(phone: str) -> str:
    return "sbx_" + hashlib.sha256(phone.encode()).hexdigest()[:16]
