"""Fakes of the persisted documents repository and reads (infrastructure/db/documents.py)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from app.documents.ports import Source, StoredDocument
from tests.fakes.store import FakeStore, Staged


class FakeDocuments:
    def __init__(self, store: FakeStore) -> None:
        self.rows: Staged[str, StoredDocument] = Staged(store.documents)

    async def get_many(self, ids: Sequence[str]) -> dict[str, StoredDocument]:
        return {id: doc for id in ids if (doc := self.rows.get(id)) is not None}

    async def count_owned(self, owner: str) -> int:
        return sum(1 for d in self.rows.values() if d.owner == owner and d.source is Source.APQ)

    async def add(self, document: StoredDocument) -> bool:
        if self.rows.get(document.id) is not None:
            return False  # ON CONFLICT DO NOTHING
        self.rows.put(document.id, document)
        return True

    async def trust(self, ids: Sequence[str]) -> None:
        for id in ids:
            if (doc := self.rows.get(id)) is not None:
                self.rows.put(id, replace(doc, source=Source.MANIFEST))


class FakeDocumentReads:
    def __init__(self, store: FakeStore) -> None:
        self.store = store
        self.lookups = 0

    async def get(self, id: str) -> StoredDocument | None:
        self.lookups += 1
        return self.store.documents.get(id)

    async def page(self, source: Source | None, limit: int) -> list[StoredDocument]:
        docs = [d for d in self.store.documents.values() if source is None or d.source is source]
        return docs[:limit]
