"""The persisted documents slice: APQ registration (capped per caller), manifest pushes checked
against the schema, and the lookup by id."""

from __future__ import annotations

from collections.abc import Mapping
from functools import cache, partial
from typing import TYPE_CHECKING

from app.documents.commands import PushDocuments, RegisterDocument
from app.documents.handlers import push_documents, register_document
from app.documents.ports import CheckedDocument
from app.documents.queries import DocumentQueries
from app.jobs import JobPolicy
from infrastructure.db.documents import SqlDocumentReads
from visapi.platform import Platform
from visapi.settings import Settings
from visapi.slices import Slice

if TYPE_CHECKING:
    from graph.document_check import SchemaDocumentCheck

JOBS: Mapping[type, JobPolicy] = {}


class _Check:
    """Builds its schema on the first push only: workers and the scheduler never push, and
    need not import Strawberry for it."""

    def __init__(self, settings: Settings) -> None:
        self._settings = settings

    @cache  # noqa: B019 - one instance per container, kept as long
    def _check(self) -> SchemaDocumentCheck:
        from graph.document_check import SchemaDocumentCheck
        from graph.schema import build_schema

        s = self._settings
        return SchemaDocumentCheck(
            build_schema(
                max_depth=s.max_query_depth,
                max_aliases=s.max_aliases,
                max_tokens=s.max_tokens,
                max_fragments=s.max_fragments,
            )
        )

    def __call__(self, body: str) -> CheckedDocument:
        return self._check()(body)


def build(p: Platform) -> Slice[DocumentQueries]:
    return Slice(
        DocumentQueries(SqlDocumentReads(p.engine)),
        {
            RegisterDocument: partial(
                register_document, uow=p.uow, cap=p.settings.documents_max_per_caller, now=p.now
            ),
            PushDocuments: partial(push_documents, uow=p.uow, check=_Check(p.settings), now=p.now),
        },
    )
