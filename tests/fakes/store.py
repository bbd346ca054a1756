"""What a fake database holds (committed rows by table) and one unit's staged changes over it."""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterator
from datetime import datetime
from typing import Any, Generic, TypeVar
from uuid import UUID

from app.documents.ports import StoredDocument
from app.jobs import Job
from app.ports import ArchivedPayload
from app.queues.ports import FailedJobView
from app.workflows.ports import WorkflowView
from domain.auth.keys import ApiKey
from domain.auth.users import User
from domain.orders.model import Order
from domain.workflows.runs import WorkflowRun
from migrations.seed_data import template_rows, translation_rows
from tests.fakes.rows import ContactSyncRow, NotificationRow

K = TypeVar("K")
V = TypeVar("V")


def detached(entity: V) -> V:
    """A copy of an entity with no pending events, as a row maps back to one: a handler that
    changes what it loaded changes nothing stored until it saves, as over SQL."""
    twin = copy.deepcopy(entity)
    events = getattr(twin, "events", None)
    if isinstance(events, list):
        events.clear()
    return twin


def _same(value: V) -> V:
    return value


class FakeStore:
    """Committed state, public for assertions; seeded with the templates and translations
    revision 0002 inserts, so confirmations bind as they do on a migrated database."""

    def __init__(self) -> None:
        self.orders: dict[UUID, Order] = {}
        self.payloads: list[ArchivedPayload] = []
        self.events: list[Any] = []
        # The `events` rows' audit columns: (type, aggregate id, actor, correlation id).
        self.event_rows: list[tuple[str, UUID, str | None, str | None]] = []
        self.outbox: list[Job] = []
        self.logs: list[dict[str, Any]] = []  # log lines committed by units, unredacted
        self.api_keys: dict[UUID, ApiKey] = {}
        self.users: dict[UUID, User] = {}
        self.contact_syncs: dict[UUID, ContactSyncRow] = {}  # by order uuid
        self.notifications: dict[UUID, NotificationRow] = {}
        self.templates: dict[tuple[str, str], tuple[str, ...]] = {
            (r["name"], r["language"]): tuple(r["parameters"]) for r in template_rows()
        }
        self.translations: dict[tuple[str, str, str], str] = {
            (r["language"], r["kind"], r["key"]): r["text"] for r in translation_rows()
        }
        self.failed_jobs: dict[UUID, FailedJobView] = {}
        self.workflows: dict[UUID, WorkflowView] = {}
        self.runs: dict[UUID, WorkflowRun] = {}
        self.schedule_ticks: dict[tuple[str, datetime], str] = {}
        self.documents: dict[str, StoredDocument] = {}  # persisted documents by id
        self.notices: list[Any] = []  # live notices published after commits
        self.bulk_operations: dict[UUID, Any] = {}
        self.bulk_orders: dict[UUID, list[UUID]] = {}  # each operation's orders, in order
        self.commits = 0
        # Scripted outages: each unit entering takes the head; an exception is raised as the
        # SQL unit of work raises `Unavailable` when it cannot connect, None lets it in.
        self.refusals: list[BaseException | None] = []


class Staged(Generic[K, V]):
    """One unit's view of a table: its own writes over the committed rows, applied on commit
    and dropped on rollback. `copy` detaches mutable entities on the way in and out."""

    def __init__(self, committed: dict[K, V], copy: Callable[[V], V] = _same) -> None:
        self.committed = committed
        self.copy = copy
        self.changes: dict[K, V | None] = {}  # None: deleted

    def get(self, key: K) -> V | None:
        value = self.changes[key] if key in self.changes else self.committed.get(key)
        return None if value is None else self.copy(value)

    def put(self, key: K, value: V) -> None:
        self.changes[key] = self.copy(value)

    def delete(self, key: K) -> bool:
        existed = self.get(key) is not None
        self.changes[key] = None
        return existed

    def items(self) -> Iterator[tuple[K, V]]:
        for key in {**self.committed, **self.changes}:
            value = self.get(key)
            if value is not None:
                yield key, value

    def values(self) -> list[V]:
        return [v for _, v in self.items()]

    def apply(self) -> None:
        for key, value in self.changes.items():
            if value is None:
                self.committed.pop(key, None)
            else:
                self.committed[key] = value
        self.changes.clear()

    def discard(self) -> None:
        self.changes.clear()
