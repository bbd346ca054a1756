"""Commands of persisted documents and what their handlers return."""

from __future__ import annotations

from dataclasses import dataclass

from app.documents.manifest import ManifestEntry


@dataclass(frozen=True)
class RegisterDocument:
    """An APQ registration: `id` is the sha256 of `body`, checked by delivery before this."""

    id: str
    body: str
    owner: str  # the authenticated caller: `api_key:<uuid>` or `user:<uuid>`
    operation_name: str | None = None
    actor: str | None = None
    correlation_id: str | None = None


@dataclass(frozen=True)
class PushDocuments:
    """Load a manifest's documents, all or none."""

    entries: tuple[ManifestEntry, ...]
    actor: str | None = None


@dataclass(frozen=True)
class Pushed:
    added: int
    unchanged: int
    trusted: int  # registered by APQ before, trusted now
