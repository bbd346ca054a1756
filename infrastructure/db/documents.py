"""Persisted documents in `persisted_documents`: the unit of work's repository and the lookup."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from app.documents.ports import Source, StoredDocument
from app.errors import Unavailable
from infrastructure.db.outages import unreachable
from infrastructure.db.tables import persisted_documents as docs

COLUMNS = [
    docs.c.id,
    docs.c.body,
    docs.c.sha256,
    docs.c.source,
    docs.c.operation_name,
    docs.c.owner,
    docs.c.created_at,
]


def _document(row: Any) -> StoredDocument:
    values = dict(row._mapping)
    return StoredDocument(**{**values, "source": Source(values["source"])})


class SqlDocuments:
    """Implements `app.documents.ports.Documents` on the connection of one unit of work."""

    def __init__(self, conn: AsyncConnection) -> None:
        self._conn = conn
        self._dialect: Any = postgresql if conn.dialect.name == "postgresql" else sqlite

    async def get_many(self, ids: Sequence[str]) -> dict[str, StoredDocument]:
        found: dict[str, StoredDocument] = {}
        # Bounded IN lists: a manifest may hold thousands of operations.
        for start in range(0, len(ids), 500):
            chunk = list(ids[start : start + 500])
            rows = await self._conn.execute(select(*COLUMNS).where(docs.c.id.in_(chunk)))
            found.update((row.id, _document(row)) for row in rows)
        return found

    async def count_owned(self, owner: str) -> int:
        """The owner's APQ documents, counted so that the count holds until the unit ends: two
        registrations of one caller racing at the cap must not both pass. SQLite's unit holds
        the write lock already; on PostgreSQL a transaction-scoped advisory lock on the owner
        serialises that caller's registrations (other callers' run on)."""
        if self._conn.dialect.name == "postgresql":
            key = func.hashtextextended(f"persisted_documents:{owner}", 0)
            await self._conn.execute(select(func.pg_advisory_xact_lock(key)))
        stmt = select(func.count()).where(docs.c.owner == owner, docs.c.source == Source.APQ)
        return int((await self._conn.execute(stmt)).scalar_one())

    async def add(self, document: StoredDocument) -> bool:
        stmt = (
            self._dialect.insert(docs)
            .values(
                id=document.id,
                body=document.body,
                sha256=document.sha256,
                source=document.source.value,
                operation_name=document.operation_name,
                owner=document.owner,
                created_at=document.created_at,
            )
            .on_conflict_do_nothing(index_elements=[docs.c.id])
        )
        return bool((await self._conn.execute(stmt)).rowcount)

    async def trust(self, ids: Sequence[str]) -> None:
        for start in range(0, len(ids), 500):
            chunk = list(ids[start : start + 500])
            await self._conn.execute(
                update(docs).where(docs.c.id.in_(chunk)).values(source=Source.MANIFEST.value)
            )


class SqlDocumentReads:
    """Implements `app.documents.ports.DocumentReads`, on the primary: a document registered a
    moment ago on another process must be found (a replica may lag)."""

    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    async def get(self, id: str) -> StoredDocument | None:
        try:
            async with self._engine.connect() as conn:
                row = (await conn.execute(select(*COLUMNS).where(docs.c.id == id))).first()
        except Exception as exc:
            if unreachable(exc, connecting=True):
                raise Unavailable("The database is unavailable; retry later") from exc
            raise
        return None if row is None else _document(row)

    async def page(self, source: Source | None, limit: int) -> list[StoredDocument]:
        stmt = select(*COLUMNS).order_by(docs.c.created_at.desc(), docs.c.id).limit(limit)
        if source is not None:
            stmt = stmt.where(docs.c.source == source.value)
        async with self._engine.connect() as conn:
            return [_document(row) for row in await conn.execute(stmt)]
