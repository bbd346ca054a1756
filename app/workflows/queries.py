"""Workflow read handlers: lists and lookups, and the enabled workflows cached 10 minutes."""

from __future__ import annotations

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


async def enabled_workflows(*, reads: WorkflowReads, cache: Cache | None) -> list[WorkflowView]:
    return await reads.enabled_workflows()


class WorkflowQueries:
    """The workflow read handlers, bound to the reads and the cache: what resolvers call."""

    def __init__(self, reads: WorkflowReads, cache: Cache | None, *, enabled_ttl: float) -> None:
        self.reads = reads
        self.cache = cache
        # Every trigger and cron tick asks for them: cached, evicted by each definition change.
        self._enabled = cached(ENABLED, ttl=enabled_ttl, key=_enabled_key, decode=_decode_views)(
            enabled_workflows
        )

    async def enabled(self) -> list[WorkflowView]:
        return await self._enabled(reads=self.reads, cache=self.cache)

    async def workflow(self, id: UUID) -> WorkflowView | None:
        return await self.reads.workflow(id)

    async def workflow_page(
        self, first: int, after: After | None, enabled: bool | None
    ) -> Page[WorkflowView]:
        return await self.reads.workflow_page(first, after, enabled)

    async def count_workflows(self, enabled: bool | None) -> int:
        return await self.reads.count_workflows(enabled)

    async def run(self, id: UUID) -> WorkflowRun | None:
        return await self.reads.run(id)

    async def run_page(self, f: RunFilter, first: int, after: After | None) -> Page[WorkflowRun]:
        return await self.reads.run_page(f, first, after)

    async def count_runs(self, f: RunFilter) -> int:
        return await self.reads.count_runs(f)
