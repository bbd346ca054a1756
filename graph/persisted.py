"""Persisted documents at execution: Apollo's automatic persisted queries (APQ), Relay's
`documentId`, and the VISAPI_DOCUMENTS rule of which documents may run.

It is a schema extension, so every transport passes it: whatever carries the request (HTTP
POST or GET today, WebSocket and SSE next) hands Strawberry the request's `extensions`, and
`on_operation` resolves them before anything is parsed. A transport must put Relay's
`documentId`/`doc_id` into those extensions (`with_document_id`), as graph.view does.

The rule (`refusal`), by VISAPI_DOCUMENTS, for callers without `admin` (who may always send any
document, so GraphiQL keeps working for them):
- any: any document runs; APQ registers a document for authenticated callers;
- persisted: only registered documents run, APQ registration for authenticated callers;
- trusted: only documents pushed from a manifest run; APQ registration is off.
Anonymous callers never register: the per-caller cap could not bound them, and their APQ
document still runs where free-form documents do (`any`), unstored.

A registered document is parsed and validated once per process and kept, parsed, in a cache
bounded by count (`RegisteredDocuments`): a lookup by id touches the database only on a miss.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from typing import Any

from graphql import ASTValidationRule, DocumentNode, parse
from strawberry.extensions import SchemaExtension

from app.documents.commands import RegisterDocument
from app.documents.handlers import OverCap
from app.documents.ports import DocumentsMode, StoredDocument
from app.errors import InvalidInput
from domain.auth.permissions import Permission, Principal
from graph.document_check import SchemaDocumentCheck
from graph.document_refs import (
    DocumentIdentity,
    invalid_reference,
    reference_of,
    sha256_hex,
)
from graph.errors import CodedError

NOT_FOUND = "PERSISTED_QUERY_NOT_FOUND"  # Apollo's code: its clients then send the document
REQUIRED = "PERSISTED_QUERY_REQUIRED"
LIMIT = "PERSISTED_QUERY_LIMIT"
# HTTP statuses of these request errors, in either media type. Apollo Server answers
# PersistedQueryNotFound with 200 and `private, no-cache, must-revalidate`, so that a CDN in
# front of GET does not keep the miss; here every answer that is not a cacheable read (this one
# included) is `no-store` (graph.response_cache), which keeps it out of every cache.
STATUS = {NOT_FOUND: 200, REQUIRED: 403, LIMIT: 403}


@dataclass
class Entry:
    stored: StoredDocument
    document: DocumentNode | None = None  # parsed and validated, after its first run here


class RegisteredDocuments:
    """id -> registered document, least recently used out past `size` entries (one per schema:
    validation depends on the schema and its rules)."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._entries: OrderedDict[str, Entry] = OrderedDict()
        self._lock = threading.Lock()  # the embedded worker thread may run GraphQL too

    def __len__(self) -> int:
        return len(self._entries)

    def get(self, id: str) -> Entry | None:
        with self._lock:
            entry = self._entries.get(id)
            if entry is not None:
                self._entries.move_to_end(id)
            return entry

    def put(self, stored: StoredDocument, document: DocumentNode | None = None) -> Entry:
        entry = Entry(stored, document)
        with self._lock:
            self._entries[stored.id] = entry
            self._entries.move_to_end(stored.id)
            while len(self._entries) > self.size:
                self._entries.popitem(last=False)
        return entry

    def known(self, id: str) -> StoredDocument | None:
        """The registered document of this id if this process holds it (never the database)."""
        entry = self.get(id)
        return None if entry is None else entry.stored


def is_admin(principal: Principal | None) -> bool:
    return principal is not None and principal.may(Permission.ADMIN)


def refusal(
    mode: DocumentsMode, principal: Principal | None, stored: StoredDocument | None
) -> CodedError | None:
    """Why this caller may not run this document under `mode` (`stored`: the registered
    document it names, None for a free-form one); None when it may."""
    if mode is DocumentsMode.ANY or is_admin(principal):
        return None
    if mode is DocumentsMode.PERSISTED and stored is not None:
        return None
    if mode is DocumentsMode.TRUSTED and stored is not None and stored.trusted:
        return None
    what = (
        "documents pushed from the app's manifest (`visapi documents push`)"
        if mode is DocumentsMode.TRUSTED
        else "registered documents"
    )
    if mode is DocumentsMode.PERSISTED and principal is None:
        what += "; registering one by APQ needs credentials"
    return CodedError(
        f"This server runs only {what} (VISAPI_DOCUMENTS={mode.value}): send a registered"
        " document's id, as extensions.persistedQuery.sha256Hash or documentId.",
        REQUIRED,
        mode=mode.value,
    )


class PersistedDocuments(SchemaExtension):
    """Before the document cache in the extension list: it resolves the document the cache,
    the parser and the validation see, and sets the token limit and the validation rules they
    apply. One hook only: Strawberry wraps every hook an extension defines on every
    request (~50 function calls each), whatever the request sends.

    A refusal is answered as a request error (`_refuse`), never raised from the hook: Strawberry
    turns an exception in `on_operation` into an error result for `execute` only, while its
    streaming path (WebSocket, SSE) lets it escape the operation.
    """

    def __init__(
        self,
        *,
        registry: RegisteredDocuments,
        mode: DocumentsMode,
        max_tokens: int,
        rules: Sequence[type[ASTValidationRule]] = (),
    ) -> None:
        self.registry = registry
        self.mode = mode
        self.max_tokens = max_tokens
        self.rules = tuple(rules)

    async def on_operation(self) -> AsyncIterator[None]:
        # The rules the document is parsed and validated under (what Strawberry's
        # MaxTokensLimiter and AddValidationRules do, each in a hook of its own).
        ctx = self.execution_context
        ctx.parse_options["max_tokens"] = self.max_tokens
        ctx.validation_rules = ctx.validation_rules + self.rules
        try:
            await self._resolve_request()
        except CodedError as refused:
            self._refuse(refused)
        yield

    async def _resolve_request(self) -> None:
        ctx = self.execution_context
        context = ctx.context
        principal: Principal | None = getattr(context, "principal", None)
        reference = reference_of(ctx.operation_extensions)
        if reference is None:
            if ctx.query:
                if (refused := refusal(self.mode, principal, None)) is not None:
                    raise refused
                _identify(context, DocumentIdentity(ctx.query))
            return
        if ctx.query:
            if not reference.apq:
                raise invalid_reference("send a documentId or a query, not both")
            if (digest := sha256_hex(ctx.query)) != reference.id:
                # Apollo's words, then ours: nothing is stored or run.
                raise invalid_reference(
                    f"provided sha does not match query: extensions.persistedQuery.sha256Hash is"
                    f" {reference.id[:64]}, the sha256 of the query is {digest}"
                )
        entry = await self._lookup(reference.id, context)
        if entry is not None:
            if (refused := refusal(self.mode, principal, entry.stored)) is not None:
                raise refused
            self._use(entry)
            stored = entry.stored
            _identify(context, DocumentIdentity(stored.body, stored.id, stored.sha256))
        elif not ctx.query:
            raise CodedError("PersistedQueryNotFound", NOT_FOUND)
        else:
            _identify(context, DocumentIdentity(ctx.query, sha256=reference.id))
            if self.mode is not DocumentsMode.TRUSTED and principal is not None:
                await self._register(reference.id, principal)
            elif (refused := refusal(self.mode, principal, None)) is not None:
                raise refused  # else it runs where a free-form document would, unstored

    def _refuse(self, error: CodedError) -> None:
        """Answer `error` as a request error: nothing is parsed, validated or executed. A set
        error skips validation and ends the operation before execution, on every path."""
        ctx = self.execution_context
        ctx.graphql_document = _REFUSED
        # The refused request may name an operation this placeholder does not define.
        ctx._provided_operation_name = None
        ctx.pre_execution_errors = [error]

    async def _lookup(self, id: str, context: Any) -> Entry | None:
        entry = self.registry.get(id)
        trusted = self.mode is DocumentsMode.TRUSTED
        if entry is not None and not (trusted and not entry.stored.trusted):
            return entry
        documents = getattr(getattr(context, "services", None), "documents", None)
        if documents is None:
            return entry
        # A miss (or, in trusted mode, an APQ document a push may have trusted since).
        stored = await documents.get(id)
        if stored is None:
            return None
        return self.registry.put(stored)

    def _use(self, entry: Entry) -> None:
        """Run the registered document: parsed and validated here on its first use in this
        process, never again (validation then skipped: no error set means valid)."""
        ctx = self.execution_context
        body = entry.stored.body
        if not ctx.query:
            ctx.query = body
        if ctx.query != body:
            return  # the text sent beside a manifest's id differs: it runs as sent
        if entry.document is None:
            try:
                entry.document = SchemaDocumentCheck(ctx.schema).document(body)  # type: ignore[arg-type]
            except InvalidInput as exc:  # e.g. stored before a schema change
                raise invalid_reference(
                    f"the registered document {entry.stored.id} {exc.message}"
                ) from None
        ctx.graphql_document = entry.document
        ctx.pre_execution_errors = []

    async def _register(self, id: str, principal: Principal) -> None:
        """Check the document (an invalid one is left to Strawberry's own errors, unstored),
        then store it, over the cap not at all: then it does not run either."""
        ctx = self.execution_context
        body = ctx.query or ""
        try:
            document = SchemaDocumentCheck(ctx.schema).document(body)  # type: ignore[arg-type]
        except InvalidInput:
            return
        ctx.graphql_document, ctx.pre_execution_errors = document, []
        try:
            runs_here = ctx.operation_type in ctx.allowed_operations
        except RuntimeError:  # no operation of the name given: Strawberry says so
            runs_here = False
        if not runs_here:
            return  # a mutation over GET, say: refused as it would be unregistered
        command = RegisterDocument(
            id=id,
            body=body,
            owner=f"{principal.kind.value}:{principal.id}",
            operation_name=ctx.operation_name,
            actor=principal.actor,
            correlation_id=getattr(ctx.context, "correlation_id", None),
        )
        try:
            stored = await ctx.context.bus.handle(command)
        except OverCap as exc:
            raise CodedError(exc.message, LIMIT, limit=exc.limit) from None
        self.registry.put(stored, document)
        _identify(ctx.context, DocumentIdentity(stored.body, stored.id, stored.sha256))


# What a refused request "runs": never executed (its error stops it first), but Strawberry
# needs a document to tell the operation's type.
_REFUSED = parse("{ __typename }")


def _identify(context: Any, identity: DocumentIdentity) -> None:
    if hasattr(context, "document"):
        context.document = identity


def document_of(context: Any) -> DocumentIdentity | None:
    """This request's document as the execution resolved it (after `on_operation`)."""
    return getattr(context, "document", None)
