"""The fake unit of work: every repository of `app.ports.UnitOfWork` over one FakeStore.

Changes are staged per unit and become visible to other units only on commit; a rollback (or
leaving the block without committing) drops them. The fake repositories never suspend, so a
unit runs from its first statement to its commit without another unit's statements between:
the serial schedule the SQL adapters' row locks and single-statement claims produce.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from types import TracebackType
from typing import Any, Self

from app import context as app_context
from app.jobs import Job
from app.live import notices_of
from app.ports import OrderAlreadyExists
from tests.fakes.access import FakeApiKeys, FakeUsers
from tests.fakes.bulk import FakeBulkOperations, FakeErasure
from tests.fakes.documents import FakeDocuments
from tests.fakes.messaging import FakeContactSyncs, FakeMessageTexts, FakeNotifications
from tests.fakes.operations import FakeFailedJobs, FakeWorkflowRuns, FakeWorkflows, runs_table
from tests.fakes.orders import FakeOrders, FakePayloads, FakeUnitLogs
from tests.fakes.store import FakeStore, Staged
from visapi.bootstrap import jobs_for  # the policies bootstrap combines: the same jobs


class FakeUnitOfWork:
    def __init__(
        self,
        store: FakeStore,
        *,
        actor: str | None = None,
        correlation_id: str | None = None,
        jobs_for: Callable[[Any], list[Job]] = jobs_for,
    ) -> None:
        self.store = store
        self.actor = actor
        self.correlation_id = correlation_id or app_context.correlation_id.get()
        self._jobs_for = jobs_for
        self._recorded: list[Any] = []
        self._announced: list[Any] = []
        self._closed = False
        runs = runs_table(store)
        self.orders = FakeOrders(store)
        self.payloads = FakePayloads(store)
        self.api_keys = FakeApiKeys(store)
        self.users = FakeUsers(store)
        self.contact_syncs = FakeContactSyncs(store)
        self.notifications = FakeNotifications(store)
        self.texts = FakeMessageTexts(store)
        self.failed_jobs = FakeFailedJobs(store)
        self.workflows = FakeWorkflows(store, runs)
        self.runs = FakeWorkflowRuns(store, runs)
        self.logs = FakeUnitLogs(correlation_id)
        self.documents = FakeDocuments(store)
        self.bulk = FakeBulkOperations(store)
        self.erasure = FakeErasure(store)

    def _tables(self) -> list[Staged[Any, Any]]:
        return [
            self.orders.rows,
            self.api_keys.rows,
            self.users.rows,
            self.contact_syncs.rows,
            self.notifications.rows,
            self.failed_jobs.rows,
            self.workflows.rows,
            self.runs.rows,
            self.runs.ticks,
            self.documents.rows,
            self.bulk.rows,
            self.bulk.items,
        ]

    async def __aenter__(self) -> Self:
        if self.store.refusals:
            refusal = self.store.refusals.pop(0)
            if refusal is not None:
                raise refusal
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

    def announce(self, notices: Sequence[Any]) -> None:
        self._announced.extend(notices)

    async def commit(self) -> None:
        if self._closed:
            raise RuntimeError("unit of work used after its commit")
        taken = {o.order_id for o in self.store.orders.values()}
        for order in self.orders.added:
            if order.order_id in taken:
                raise OrderAlreadyExists(order.order_id)
            taken.add(order.order_id)
        new_events = [e for o in self.orders.added for e in o.events] + self._recorded
        jobs = [job for e in new_events for job in self._jobs_for(e)]
        for order in self.orders.added:
            self.orders.rows.put(order.id, order)
        for table in self._tables():
            table.apply()
        self.store.payloads += self.payloads.added
        self.store.events += new_events
        self.store.event_rows += [
            (e.type, e.aggregate_id, e.actor or self.actor, self.correlation_id) for e in new_events
        ]
        self.store.outbox += jobs
        self.store.logs += self.logs.added
        self.store.notices += self._announced + notices_of(new_events)
        self.store.commits += 1
        self._closed = True
        self._clear()

    async def rollback(self) -> None:
        for table in self._tables():
            table.discard()
        self._clear()

    def _clear(self) -> None:
        self.orders.added = []
        self.payloads.added = []
        self.logs.added = []
        self._recorded = []
        self._announced = []


class FakeUnitOfWorkFactory:
    def __init__(self, store: FakeStore | None = None) -> None:
        self.store = store or FakeStore()

    def __call__(self, **context: Any) -> FakeUnitOfWork:
        return FakeUnitOfWork(self.store, **context)
