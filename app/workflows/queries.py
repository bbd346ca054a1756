"""Workflow read handlers: lists and lookups, and the enabled workflows cached 10 minutes."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from functools import partial
from uuid import UUID

from app.auth.ports import After, Page
from app.cache import cached
from app.codec import decoder
from app.ports import Cache
from app.workflows.ports import RunFilter, WorkflowReads, WorkflowView
from domain.workflows.runs import WorkflowRun

# Cache prefix of the enabled workflows; every definition change evicts it (handlers.py).
ENABLED = "workflows-enabled"

_decode_views = decoder(list[WorkflowView])


def _enabled_key(**_: object) -> str:
    return "all"


def _bind_enabled(ttl: float) -> Callable[..., Awaitable[list[WorkflowView]]]:
    @cached(ENABLED, ttl=ttl, key=_enabled_key, decode=_decode_views)
    async def read(*, reads: WorkflowReads, cache: Cache | None) -> list[WorkflowView]:
        return await reads.enabled_workflows()

    return read


@dataclass(frozen=True)
class WorkflowQueries:
    """The read handlers bound to their reads and cache (built in bootstrap)."""

    enabled: Callable[[], Awaitable[list[WorkflowView]]]
    workflow: Callable[[UUID], Awaitable[WorkflowView | None]]
    workflow_page: Callable[[int, After | None, bool | None], Awaitable[Page[WorkflowView]]]
    count_workflows: Callable[[bool | None], Awaitable[int]]
    run: Callable[[UUID], Awaitable[WorkflowRun | None]]
    run_page: Callable[[RunFilter, int, After | None], Awaitable[Page[WorkflowRun]]]
    count_runs: Callable[[RunFilter], Awaitable[int]]


def bind_workflow_queries(
    reads: WorkflowReads, cache: Cache | None, *, enabled_ttl: float
) -> WorkflowQueries:
    return WorkflowQueries(
        enabled=partial(_bind_enabled(enabled_ttl), reads=reads, cache=cache),
        workflow=reads.workflow,
        workflow_page=reads.workflow_page,
        count_workflows=reads.count_workflows,
        run=reads.run,
        run_page=reads.run_page,
        count_runs=reads.count_runs,
    )
