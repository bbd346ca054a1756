"""Registering documents: one by APQ (capped per caller), or a whole manifest (all or none).

A manifest is checked entirely before its unit of work opens: every entry parsed and validated
against the schema, every id compared with what is stored. One bad entry fails the push naming
it, and nothing is stored. A push is idempotent: a document already stored under its id is left
as it is, except that an APQ registration of the same text becomes trusted.

The per-caller cap is checked by counting inside the registration's unit, and the count holds
until the unit ends (SQLite's write lock; on PostgreSQL an advisory lock on the caller, taken by
the repository): two registrations of one caller racing at the cap cannot both pass.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from datetime import datetime

from app.documents.commands import PushDocuments, Pushed, RegisterDocument
from app.documents.ports import DocumentCheck, Source, StoredDocument
from app.errors import AppError, InvalidInput
from app.ports import UnitOfWorkFactory


class OverCap(AppError):
    """The caller registered as many documents as it may: nothing stored, nothing run."""

    code = "PERSISTED_QUERY_LIMIT"

    def __init__(self, message: str, limit: int) -> None:
        super().__init__(message)
        self.limit = limit


def sha256_hex(body: str) -> str:
    return hashlib.sha256(body.encode("utf-8", "surrogatepass")).hexdigest()


async def register_document(
    cmd: RegisterDocument, *, uow: UnitOfWorkFactory, cap: int, now: Callable[[], datetime]
) -> StoredDocument:
    """Store an APQ document for `cmd.owner` (idempotent); OverCap past `cap` documents."""
    async with uow(actor=cmd.actor, correlation_id=cmd.correlation_id) as unit:
        stored = (await unit.documents.get_many([cmd.id])).get(cmd.id)
        if stored is not None:
            return stored
        owned = await unit.documents.count_owned(cmd.owner)
        if owned >= cap:
            raise OverCap(
                f"this caller has registered {owned} persisted documents, the most allowed"
                f" (VISAPI_DOCUMENTS_MAX_PER_CALLER={cap}); send the document in full, or push"
                " the app's manifest with `visapi documents push`",
                cap,
            )
        document = StoredDocument(
            id=cmd.id,
            body=cmd.body,
            sha256=sha256_hex(cmd.body),
            source=Source.APQ,
            operation_name=cmd.operation_name,
            owner=cmd.owner,
            created_at=now(),
        )
        # False when a concurrent request registered it meanwhile: the same text (its hash).
        await unit.documents.add(document)
        await unit.commit()
    return document


async def push_documents(
    cmd: PushDocuments,
    *,
    uow: UnitOfWorkFactory,
    check: DocumentCheck,
    now: Callable[[], datetime],
) -> Pushed:
    if not cmd.entries:
        raise InvalidInput("the manifest has no documents")
    names: dict[str, str | None] = {}
    for entry in cmd.entries:
        try:
            checked = check(entry.body)
        except InvalidInput as exc:
            label = f" ({entry.name})" if entry.name else ""
            raise InvalidInput(f"document {entry.id}{label}: {exc.message}") from None
        names[entry.id] = entry.name or checked.operation_name
    async with uow(actor=cmd.actor) as unit:
        stored = await unit.documents.get_many([e.id for e in cmd.entries])
        for entry in cmd.entries:
            known = stored.get(entry.id)
            if known is not None and known.body != entry.body:
                raise InvalidInput(
                    f"document {entry.id}: another document is stored under this id"
                    f" ({known.source.value}); ids must name one text for good"
                )
        to_trust = [id for id, known in stored.items() if not known.trusted]
        added = 0
        at = now()
        for entry in cmd.entries:
            if entry.id in stored:
                continue
            added += await unit.documents.add(
                StoredDocument(
                    id=entry.id,
                    body=entry.body,
                    sha256=sha256_hex(entry.body),
                    source=Source.MANIFEST,
                    operation_name=names[entry.id],
                    created_at=at,
                )
            )
        if to_trust:
            await unit.documents.trust(to_trust)
        await unit.commit()
    return Pushed(added=added, unchanged=len(stored) - len(to_trust), trusted=len(to_trust))
