"""A fake of the idempotency key store (infrastructure/db/idempotency.py: SqlIdempotency): one
row per (scope, key), every write a compare-and-set on the claim's token as the SQL does."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from uuid import UUID

from app.idempotency import Answer, IdempotencyRecord


class FakeIdempotency:
    def __init__(self) -> None:
        self.rows: dict[tuple[str, str], IdempotencyRecord] = {}

    def _find(self, token: UUID) -> tuple[str, str] | None:
        return next((k for k, r in self.rows.items() if r.token == token), None)

    async def insert(
        self,
        scope: str,
        key: str,
        request_hash: str,
        *,
        token: UUID,
        at: datetime,
        expires: datetime,
    ) -> bool:
        if (scope, key) in self.rows:
            return False  # ON CONFLICT (scope, key) DO NOTHING
        self.rows[scope, key] = IdempotencyRecord(token, request_hash, None, None, at, expires)
        return True

    async def get(self, scope: str, key: str) -> IdempotencyRecord | None:
        return self.rows.get((scope, key))

    async def take_over(
        self,
        scope: str,
        key: str,
        old: IdempotencyRecord,
        request_hash: str,
        *,
        token: UUID,
        at: datetime,
        expires: datetime,
    ) -> bool:
        # The UPDATE matches the row's id and its status code (NULL as NULL), nothing else.
        row = self.rows.get((scope, key))
        if row is None or row.token != old.token or row.status_code != old.status_code:
            return False
        self.rows[scope, key] = IdempotencyRecord(token, request_hash, None, None, at, expires)
        return True

    async def complete(self, token: UUID, answer: Answer, expires: datetime) -> bool:
        found = self._find(token)
        if found is None or self.rows[found].status_code is not None:
            return False
        self.rows[found] = replace(
            self.rows[found],
            status_code=answer.status_code,
            response=answer.body,
            expires_at=expires,
        )
        return True

    async def release(self, token: UUID) -> None:
        found = self._find(token)
        if found is not None and self.rows[found].status_code is None:
            del self.rows[found]

    async def purge(self, before: datetime) -> int:
        expired = [k for k, r in self.rows.items() if r.expires_at < before]
        for k in expired:
            del self.rows[k]
        return len(expired)
