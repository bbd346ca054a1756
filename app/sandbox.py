"""The read side of the sandbox vendors: what they would have sent, listed newest first."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol
from uuid import UUID

from app.auth.ports import After, Page


@dataclass(frozen=True, slots=True)
class SandboxRecord:
    """One call a sandbox vendor recorded instead of making it."""

    id: UUID
    vendor: str
    operation: str
    phone: str | None
    payload: dict[str, Any]
    created_at: datetime


class SandboxRecords(Protocol):
    """Pages of `sandbox_messages`, newest first (created_at, then id), optionally by phone."""

    async def page(
        self, first: int, after: After | None, phone: str | None
    ) -> Page[SandboxRecord]: ...

    async def count(self, phone: str | None) -> int: ...
