"""Sandbox vendors: record what would be sent instead of calling the CRM; scriptable failures."""

from __future__ import annotations

import asyncio
import hashlib
import threading
from collections import deque
from dataclasses import dataclass

from app.contacts.ports import Contact, ContactSyncError


@dataclass(frozen=True)
class SandboxContact:
    contact_id: str
    contact: Contact
    upserts: int


class SandboxContactSync:
    """Implements `ContactSync` in memory, keyed by phone like the CRM.

    Ids are derived from the phone so they are stable across restarts and processes. Shared by
    the API and the embedded worker (different threads), hence the lock.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._contacts: dict[str, SandboxContact] = {}
        self._failures: deque[ContactSyncError] = deque()
        self._always: ContactSyncError | None = None
        self.calls = 0
        self.latency_s = 0.0  # simulated vendor latency, e.g. to exercise job time limits

    def fail_next(self, times: int, category: str = "network", message: str = "sandbox") -> None:
        """Make the next `times` calls raise `ContactSyncError(category, message)`."""
        with self._lock:
            self._failures.extend(ContactSyncError(category, message) for _ in range(times))

    def fail_always(self, category: str | None = "vendor_error", message: str = "sandbox") -> None:
        """Make every call fail until called again with `category=None`."""
        with self._lock:
            self._always = ContactSyncError(category, message) if category else None

    async def upsert(self, contact: Contact) -> tuple[str, bool]:
        if self.latency_s:
            await asyncio.sleep(self.latency_s)
        with self._lock:
            self.calls += 1
            if self._always is not None:
                raise ContactSyncError(self._always.category, self._always.message)
            if self._failures:
                raise self._failures.popleft()
            known = self._contacts.get(contact.phone)
            contact_id = known.contact_id if known else _contact_id(contact.phone)
            upserts = known.upserts + 1 if known else 1
            self._contacts[contact.phone] = SandboxContact(contact_id, contact, upserts)
            return contact_id, known is None

    def contacts(self) -> list[SandboxContact]:
        """What the CRM would now hold, in first-seen order."""
        with self._lock:
            return list(self._contacts.values())


def _contact_id(phone: str) -> str:
    return "sbx_" + hashlib.sha256(phone.encode()).hexdigest()[:16]
