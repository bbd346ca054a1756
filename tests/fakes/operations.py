"""Fakes of the dead-letter, workflow and run repositories (infrastructure/db/failed_jobs.py,
workflows.py), with the adapters' filters, orderings and cascades."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import datetime
from uuid import UUID

from app.queues.ports import FailedJobFilter, FailedJobView
from app.workflows.ports import WorkflowView
from domain.workflows.runs import WorkflowRun
from tests.fakes.store import FakeStore, Staged, detached


def matches(job: FailedJobView, f: FailedJobFilter) -> bool:
    """The adapter's `_where`: every given condition holds; `failed_to` is exclusive."""
    return (
        (f.queue is None or job.queue == f.queue)
        and (f.actor is None or job.actor == f.actor)
        and (f.replayed is None or (job.replayed_at is not None) == f.replayed)
        and (f.failed_from is None or job.failed_at >= f.failed_from)
        and (f.failed_to is None or job.failed_at < f.failed_to)
    )


class FakeFailedJobs:
    def __init__(self, store: FakeStore) -> None:
        self.rows: Staged[UUID, FailedJobView] = Staged(store.failed_jobs)

    async def get(self, id: UUID) -> FailedJobView | None:
        return self.rows.get(id)

    def _unreplayed(self, where: FailedJobFilter) -> list[FailedJobView]:
        found = [j for j in self.rows.values() if matches(j, where) and j.replayed_at is None]
        return sorted(found, key=lambda j: (j.failed_at, j.id))

    async def replayable(
        self, where: FailedJobFilter, actors: Sequence[str], limit: int
    ) -> list[FailedJobView]:
        return [j for j in self._unreplayed(where) if j.actor in actors][:limit]

    async def other_actors(self, where: FailedJobFilter, actors: Sequence[str]) -> list[str]:
        return sorted({j.actor for j in self._unreplayed(where) if j.actor not in actors})

    async def mark_replayed(self, ids: Sequence[UUID], at: datetime) -> list[UUID]:
        changed = []
        for id in dict.fromkeys(ids):
            job = self.rows.get(id)
            if job is not None and job.replayed_at is None:
                self.rows.put(id, replace(job, replayed_at=at))
                changed.append(id)
        return changed


class FakeWorkflows:
    def __init__(self, store: FakeStore, runs: Staged[UUID, WorkflowRun]) -> None:
        self.rows: Staged[UUID, WorkflowView] = Staged(store.workflows)
        self.runs = runs

    async def get(self, id: UUID) -> WorkflowView | None:
        return self.rows.get(id)

    async def add(self, workflow: WorkflowView) -> None:
        self.rows.put(workflow.id, workflow)

    async def update(self, workflow: WorkflowView) -> None:
        stored = self.rows.get(workflow.id)
        if stored is not None:
            # The adapter's UPDATE leaves the id and created_at alone.
            self.rows.put(workflow.id, replace(workflow, created_at=stored.created_at))

    async def delete(self, id: UUID) -> bool:
        for run_id, run in list(self.runs.items()):
            if run.workflow_id == id:
                self.runs.delete(run_id)
        return self.rows.delete(id)

    async def webhook_keys(self) -> dict[str, UUID]:
        owners: dict[str, UUID] = {}
        for workflow in self.rows.values():
            for trigger in (workflow.definition or {}).get("triggers", []):
                config = trigger.get("config") if isinstance(trigger, Mapping) else None
                if trigger.get("type") == "webhook" and isinstance(config, Mapping):
                    owners.setdefault(str(config.get("key")), workflow.id)
        return owners


class FakeWorkflowRuns:
    def __init__(self, store: FakeStore, rows: Staged[UUID, WorkflowRun]) -> None:
        self.store = store
        self.rows = rows
        self.ticks: Staged[tuple[str, datetime], str] = Staged(store.schedule_ticks)

    async def add(self, run: WorkflowRun) -> None:
        self.rows.put(run.id, run)

    async def get(self, id: UUID, *, lock: bool = False) -> WorkflowRun | None:
        return self.rows.get(id)

    async def started_for_order(self, order_id: UUID, workflow_ids: Sequence[UUID]) -> set[UUID]:
        return {
            run.workflow_id
            for run in self.rows.values()
            if run.workflow_id in workflow_ids
            and (run.context.get("order") or {}).get("id") == str(order_id)
        }

    async def save(self, run: WorkflowRun, now: datetime) -> None:
        stored = self.rows.get(run.id)
        if stored is not None:
            saved = replace(
                stored,
                status=run.status,
                steps=list(run.steps),
                started_at=run.started_at,
                finished_at=run.finished_at,
                updated_at=now,
            )
            self.rows.put(run.id, saved)

    async def claim_tick(self, name: str, at: datetime, claimer: str) -> bool:
        key = (name[:128], at)
        if self.ticks.get(key) is not None:
            return False
        self.ticks.put(key, claimer[:128])
        return True


def runs_table(store: FakeStore) -> Staged[UUID, WorkflowRun]:
    """One staged runs table per unit, shared by both repositories (delete cascades to it)."""
    return Staged(store.runs, detached)
