"""Read handlers of persisted documents: one lookup by id, and the list operators ask for."""

from __future__ import annotations

from app.documents.ports import DocumentReads, Source, StoredDocument


class DocumentQueries:
    """No shared cache: delivery keeps each document it read for the life of its process
    (a document never changes under its id), so a lookup reaches here once per process."""

    def __init__(self, reads: DocumentReads) -> None:
        self._reads = reads

    async def get(self, id: str) -> StoredDocument | None:
        return await self._reads.get(id)

    async def page(self, source: Source | None = None, limit: int = 1000) -> list[StoredDocument]:
        return await self._reads.page(source, limit)
