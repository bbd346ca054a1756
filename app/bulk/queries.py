"""The bulk operations' read handlers: one by id, and pages newest first."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from app.bulk.ports import BulkOperationView, BulkReads


class BulkQueries:
    def __init__(self, reads: BulkReads) -> None:
        self.reads = reads

    async def operation(self, id: UUID) -> BulkOperationView | None:
        return await self.reads.by_id(id)

    async def page(
        self, first: int, after: tuple[datetime, UUID] | None
    ) -> tuple[list[BulkOperationView], bool]:
        """A page and whether another follows."""
        rows = await self.reads.page(first + 1, after)
        return rows[:first], len(rows) > first
