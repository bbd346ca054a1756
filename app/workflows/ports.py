"""Workflow ports: repositories (in the unit of work), reads, and the vendors steps call."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol
from uuid import UUID

from app.auth.ports import After, Page
from domain.workflows.runs import RunStatus, WorkflowRun


@dataclass(frozen=True)
class WorkflowView:
    """A stored workflow: the columns and the definition document as saved."""

    id: UUID
    name: str
    description: str | None
    enabled: bool
    definition: dict[str, Any]
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True)
class RunFilter:
    workflow_id: UUID | None = None
    status: RunStatus | None = None
    created_from: datetime | None = None
    created_to: datetime | None = None


class Workflows(Protocol):
    """Write side of workflows, on the unit of work's transaction."""

    async def get(self, id: UUID) -> WorkflowView | None: ...

    async def add(self, workflow: WorkflowView) -> None: ...

    async def update(self, workflow: WorkflowView) -> None: ...

    async def delete(self, id: UUID) -> bool: ...

    async def webhook_keys(self) -> dict[str, UUID]:
        """Every webhook trigger key in use, with the workflow that owns it."""
        ...


class WorkflowRuns(Protocol):
    """Write side of runs; `get(..., lock=True)` holds the row until commit (one executor)."""

    async def add(self, run: WorkflowRun) -> None: ...

    async def get(self, id: UUID, *, lock: bool = False) -> WorkflowRun | None: ...

    async def started_for_order(self, order_id: UUID, workflow_ids: Sequence[UUID]) -> set[UUID]:
        """Those of `workflow_ids` that have a run whose context is this order."""
        ...

    async def save(self, run: WorkflowRun, now: datetime) -> None: ...

    async def claim_tick(self, name: str, at: datetime, claimer: str) -> bool:
        """Insert the (name, tick) claim in `schedule_ticks`; True for the one winner."""
        ...


class WorkflowReads(Protocol):
    async def workflow(self, id: UUID) -> WorkflowView | None: ...

    async def workflow_page(
        self, first: int, after: After | None, enabled: bool | None
    ) -> Page[WorkflowView]: ...

    async def count_workflows(self, enabled: bool | None) -> int: ...

    async def enabled_workflows(self) -> list[WorkflowView]: ...

    async def run(self, id: UUID) -> WorkflowRun | None: ...

    async def run_page(
        self, f: RunFilter, first: int, after: After | None
    ) -> Page[WorkflowRun]: ...

    async def count_runs(self, f: RunFilter) -> int: ...


# Vendors the steps call. Each raises `app.vendors.VendorError` with a category on failure.


class Chat(Protocol):
    """A team chat (Slack incoming webhook): posts `text` to `channel` (# or @)."""

    async def post(self, channel: str, text: str) -> Mapping[str, Any]: ...


class Mailer(Protocol):
    async def send(self, recipient: str, subject: str, body: str) -> Mapping[str, Any]: ...


class Documents(Protocol):
    """Renders an HTML template to a PDF file and returns where it was stored."""

    async def pdf(self, html: str, filename: str) -> Mapping[str, Any]: ...


def step_list(definition: Mapping[str, Any]) -> Sequence[tuple[str, str]]:
    """(id, type) of each step of a stored definition document."""
    return [(s["id"], s["type"]) for s in definition.get("steps", [])]
