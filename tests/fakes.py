"""In-memory fakes of the write-side ports, for unit tests of handlers through `bootstrap`."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from datetime import datetime
from types import TracebackType
from typing import Any, Self
from uuid import UUID

from app.contacts.policies import JOB_POLICIES as CONTACT_JOBS
from app.jobs import Job, jobs_by_policy
from app.notifications.policies import JOB_POLICIES as NOTIFICATION_JOBS
from app.ports import ArchivedPayload, OrderAlreadyExists
from domain.orders.model import Order

jobs_for = jobs_by_policy({**CONTACT_JOBS, **NOTIFICATION_JOBS})


class FakeStore:
    """What a fake database holds: committed orders, archived payloads, events and jobs."""

    def __init__(self) -> None:
        self.orders: dict[UUID, Order] = {}
        self.payloads: list[ArchivedPayload] = []
        self.events: list[Any] = []
        self.outbox: list[Job] = []
        self.logs: list[dict[str, Any]] = []  # log lines committed by units, unredacted
        self.commits = 0


class FakeOrders:
    def __init__(self, store: FakeStore) -> None:
        self.store = store
        self.added: list[Order] = []

    def add(self, order: Order) -> None:
        self.added.append(order)

    async def get_by_order_id(self, order_id: str) -> Order | None:
        return next((o for o in self.store.orders.values() if o.order_id == order_id), None)

    async def mark_processed(self, ids: Sequence[UUID], at: datetime) -> list[UUID]:
        changed = []
        for i in ids:
            order = self.store.orders.get(i)
            if order is not None and order.processed_at is None:
                order.processed_at = at
                changed.append(i)
        return changed


class FakePayloads:
    def __init__(self) -> None:
        self.added: list[ArchivedPayload] = []

    def add(self, payload: ArchivedPayload) -> None:
        self.added.append(payload)


class FakeUnitLogs:
    def __init__(self) -> None:
        self.added: list[dict[str, Any]] = []

    def add(self, level: Any, message: str, **fields: Any) -> None:
        self.added.append({"level": str(level), "message": message, **fields})


class FakeUnitOfWork:
    def __init__(self, store: FakeStore, **_context: Any) -> None:
        self.store = store
        self.orders = FakeOrders(store)
        self.payloads = FakePayloads()
        self.logs = FakeUnitLogs()
        self._recorded: list[Any] = []

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.rollback()

    def record(self, events: Sequence[Any]) -> None:
        self._recorded.extend(events)

    async def commit(self) -> None:
        for order in self.orders.added:
            if any(o.order_id == order.order_id for o in self.store.orders.values()):
                raise OrderAlreadyExists(order.order_id)
        new_events = [e for o in self.orders.added for e in o.events] + self._recorded
        for order in self.orders.added:
            self.store.orders[order.id] = order
        self.store.payloads += self.payloads.added
        self.store.events += new_events
        self.store.outbox += [job for e in new_events for job in jobs_for(e)]
        self.store.logs += self.logs.added
        self.store.commits += 1
        await self.rollback()

    async def rollback(self) -> None:
        self.orders.added = []
        self.payloads.added = []
        self.logs.added = []
        self._recorded = []


class FakeUnitOfWorkFactory:
    def __init__(self) -> None:
        self.store = FakeStore()

    def __call__(self, **context: Any) -> FakeUnitOfWork:
        return FakeUnitOfWork(self.store, **context)


class FakeContactSync:
    """The CRM port in memory, keyed by phone; `fail_next` scripts vendor errors."""

    def __init__(self) -> None:
        self.contacts: dict[str, Any] = {}  # phone -> the last Contact pushed
        self.upserts: list[Any] = []
        self.failures: list[Exception] = []

    async def upsert(self, contact: Any) -> tuple[str, bool]:
        self.upserts.append(contact)
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

    async def send_template(self, message: Any) -> str | None:
        self.calls += 1
        self.entered.set()
        if self.gate is not None:
            await self.gate.wait()
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
