"""Ports and read models of persisted documents."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Protocol


class Source(StrEnum):
    """How a document was registered. Only `manifest` documents run in `trusted` mode."""

    APQ = "apq"  # by a caller, through Apollo's automatic persisted queries
    MANIFEST = "manifest"  # by an operator, `visapi documents push`


class DocumentsMode(StrEnum):
    """VISAPI_DOCUMENTS: which documents a caller without `admin` may run."""

    ANY = "any"  # any document; APQ registers for authenticated callers
    PERSISTED = "persisted"  # registered documents only (APQ or manifest)
    TRUSTED = "trusted"  # manifest documents only; APQ registration off


@dataclass(frozen=True, slots=True)
class StoredDocument:
    """A registered document: its id is what clients send (an APQ sha256, a manifest's id)."""

    id: str
    body: str
    sha256: str  # of the body, whatever the id: what a response cache keys by
    source: Source
    operation_name: str | None = None
    owner: str | None = None  # the caller that registered it by APQ (`api_key:<uuid>`)
    created_at: datetime | None = None

    @property
    def trusted(self) -> bool:
        return self.source is Source.MANIFEST


class Documents(Protocol):
    """Write side of the registered documents, inside a unit of work."""

    async def get_many(self, ids: Sequence[str]) -> dict[str, StoredDocument]: ...

    async def count_owned(self, owner: str) -> int:
        """Documents `owner` registered by APQ (its cap counts these)."""
        ...

    async def add(self, document: StoredDocument) -> bool:
        """Insert unless the id is taken (by a concurrent registration too); True if inserted."""
        ...

    async def trust(self, ids: Sequence[str]) -> None:
        """Mark APQ documents as pushed from a manifest (a manifest re-registered them)."""
        ...


class DocumentReads(Protocol):
    """Read side: one lookup per document and process (callers keep what they read)."""

    async def get(self, id: str) -> StoredDocument | None: ...

    async def page(self, source: Source | None, limit: int) -> list[StoredDocument]:
        """Newest first."""
        ...


@dataclass(frozen=True, slots=True)
class CheckedDocument:
    operation_name: str | None
    operation_type: str  # query, mutation, subscription


class DocumentCheck(Protocol):
    """Parses and validates a document against the schema, without running it (delivery's
    job: the app layer knows no GraphQL). Raises InvalidInput naming what is wrong."""

    def __call__(self, body: str) -> CheckedDocument: ...
