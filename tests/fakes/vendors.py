"""Fakes of the vendors and side ports handlers are given besides the unit of work."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from datetime import datetime
from typing import Any
from uuid import UUID

from app.jobs import Job


class FakeContactSync:
    """The CRM port in memory, keyed by phone; `fail_next` scripts vendor errors."""

    def __init__(self) -> None:
        self.contacts: dict[str, Any] = {}  # phone -> the last Contact pushed
        self.upserts: list[Any] = []
        self.failures: list[Exception] = []
        self.failing: dict[str, Exception] = {}  # phone -> the error every call for it raises
        self.gate: asyncio.Event | None = None  # holds calls in flight until the test opens it
        self.entered = asyncio.Event()

    async def upsert(self, contact: Any) -> tuple[str, bool]:
        self.upserts.append(contact)
        self.entered.set()
        if self.gate is not None:
            await self.gate.wait()
        if contact.phone in self.failing:
            raise self.failing[contact.phone]
        if self.failures:
            raise self.failures.pop(0)
        created = contact.phone not in self.contacts
        self.contacts[contact.phone] = contact
        return f"c_{contact.phone}", created


class FakeMessaging:
    """The messaging port in memory: what was sent, scripted failures, and a gate that holds
    a send in flight until the test opens it (to race two attempts deterministically)."""

    def __init__(self) -> None:
        self.sent: list[Any] = []
        self.failures: list[Exception] = []
        self.calls = 0
        self.gate: asyncio.Event | None = None
        self.entered = asyncio.Event()
        self.failing: dict[str, Exception] = {}  # phone -> the error every send to it raises

    async def send_template(self, message: Any) -> str | None:
        self.calls += 1
        self.entered.set()
        if self.gate is not None:
            await self.gate.wait()
        if message.phone in self.failing:
            raise self.failing[message.phone]
        if self.failures:
            raise self.failures.pop(0)
        self.sent.append(message)
        return f"wamid.{len(self.sent)}"


class FakeBusinessLog:
    """Business logs kept in a list, as the handler wrote them (before any redaction)."""

    def __init__(self) -> None:
        self.entries: list[dict[str, Any]] = []

    async def write(self, level: Any, message: str, **fields: Any) -> None:
        self.entries.append({"level": str(level), "message": message, **fields})


class FakeWorkflowReads:
    """No workflows: orders through the fake unit of work start none (it has no runs)."""

    async def enabled_workflows(self) -> list[Any]:
        return []

    async def workflow(self, id: UUID) -> Any:
        return None

    async def workflow_page(self, first: int, after: Any, enabled: bool | None) -> Any:
        raise NotImplementedError

    async def count_workflows(self, enabled: bool | None) -> int:
        return 0

    async def run(self, id: UUID) -> Any:
        return None

    async def run_page(self, f: Any, first: int, after: Any) -> Any:
        raise NotImplementedError

    async def count_runs(self, f: Any) -> int:
        return 0


class FakeJobs:
    """The broker's direct path (`app.jobs.Jobs`): what was published; `failures` scripts
    refusals (a broker that is away too)."""

    def __init__(self) -> None:
        self.published: list[Job] = []
        self.failures: list[Exception] = []

    async def enqueue(self, job: Job) -> None:
        if self.failures:
            raise self.failures.pop(0)
        self.published.append(job)


class FakeHasher:
    """A reversible stand-in for argon2: verifying needs no CPU, and tests can read the secret."""

    def hash(self, secret: str) -> str:
        return f"hashed:{secret}"

    def verify(self, hashed: str, secret: str) -> bool:
        return hashed == f"hashed:{secret}"


class FakeKeyUsage:
    """Key use gathered between flushes, the latest time per key (as the memory adapter)."""

    def __init__(self) -> None:
        self.gathered: dict[UUID, datetime] = {}

    async def touch(self, key_id: UUID, at: datetime) -> None:
        if key_id not in self.gathered or self.gathered[key_id] < at:
            self.gathered[key_id] = at

    async def drain(self) -> dict[UUID, datetime]:
        batch, self.gathered = self.gathered, {}
        return batch

    async def restore(self, usage: Mapping[UUID, datetime]) -> None:
        for key_id, at in usage.items():
            await self.touch(key_id, at)
