"""The per-caller cap of APQ registrations holds under concurrent registrations of one caller,
on both databases (SQLite's write lock; PostgreSQL's advisory lock on the caller)."""

from __future__ import annotations

import asyncio
import hashlib
from dataclasses import replace

from sqlalchemy import func, select

from app.documents.commands import RegisterDocument
from app.documents.handlers import OverCap
from infrastructure.db.tables import persisted_documents
from visapi.bootstrap import bootstrap
from visapi.settings import Settings

CAP = 3


def registration(n: int, owner: str) -> RegisterDocument:
    body = f"query Q{n} {{ __typename }}"
    return RegisterDocument(id=hashlib.sha256(body.encode()).hexdigest(), body=body, owner=owner)


async def test_racing_registrations_of_one_caller_stop_at_the_cap(settings: Settings) -> None:
    container = bootstrap(replace(settings, documents_max_per_caller=CAP))
    try:
        owner = "api_key:racer"
        results = await asyncio.gather(
            *(container.bus.handle(registration(n, owner)) for n in range(12)),
            return_exceptions=True,
        )
        refused = [r for r in results if isinstance(r, OverCap)]
        unexpected = [r for r in results if isinstance(r, BaseException) and r not in refused]
        assert not unexpected, unexpected
        assert len(refused) == 12 - CAP
        # Another caller is not held back by this one's cap.
        assert await container.bus.handle(registration(99, "api_key:other")) is not None
        owned = select(func.count()).where(persisted_documents.c.owner == owner)
        async with container.engine.connect() as conn:
            assert (await conn.execute(owned)).scalar_one() == CAP
    finally:
        await container.aclose()
