"""Parsed and validated documents, remembered by their text under a budget of bytes.

Strawberry's ParserCache and ValidationCache count entries (we kept 1,024), but an entry's
size is the attacker's choice: ~2,000 tokens (the token limit) of `[1,1,...]` are 4 KB of text
and ~700 KB of tokens and AST nodes, and parsing runs before authentication. 120 anonymous
documents grew a process by 240 MB and it kept them. This cache charges each document an
estimate of what it holds and evicts the least recently used past the budget.

Only documents that validate are kept: an invalid one is answered with errors and never runs,
a client sends it again only by mistake, and it is the cheapest way to fill a cache.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Iterator

from graphql import (
    DocumentNode,
    GraphQLError,
    Visitor,
    visit,
)
from strawberry.extensions import SchemaExtension

# Measured with tracemalloc on graphql-core 3.3 (tests/unit/test_documents.py keeps it honest):
# a token with its AST node and location holds ~350-550 bytes; the text is held up to three
# times (the query, token values, node values), four with the allocator's rounding.
BYTES_PER_TOKEN = 600
BYTES_PER_CHARACTER = 4
ENTRY_OVERHEAD = 1_024


def document_cost(query: str, document: DocumentNode) -> int:
    """Bytes a cached document is expected to keep alive: its text and every token."""
    tokens = 0
    token = document.loc.start_token if document.loc is not None else None
    while token is not None:
        tokens += 1
        token = token.next
    return ENTRY_OVERHEAD + BYTES_PER_CHARACTER * len(query) + BYTES_PER_TOKEN * tokens


class Documents:
    """An LRU of validated documents by query text, holding at most `max_bytes` (estimated)."""

    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max_bytes
        self.bytes = 0
        self._entries: OrderedDict[str, tuple[DocumentNode, int]] = OrderedDict()
        # Every request of a process shares it; the embedded worker thread may run GraphQL too.
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._entries)

    def get(self, query: str) -> DocumentNode | None:
        with self._lock:
            entry = self._entries.get(query)
            if entry is None:
                return None
            self._entries.move_to_end(query)
            return entry[0]

    def put(self, query: str, document: DocumentNode) -> None:
        cost = document_cost(query, document)
        if cost > self.max_bytes:
            return  # would evict everything else for one document
        with self._lock:
            old = self._entries.pop(query, None)
            if old is not None:
                self.bytes -= old[1]
            self._entries[query] = (document, cost)
            self.bytes += cost
            while self.bytes > self.max_bytes:
                _, (_, evicted) = self._entries.popitem(last=False)
                self.bytes -= evicted


class CachedDocuments(SchemaExtension):
    """Parsing and validation skipped for a document this process validated before.

    Validation depends on the schema and its rules only (fixed per `Documents`, which
    build_schema makes per schema); checks that depend on the caller run at execution.
    """

    def __init__(self, *, documents: Documents, max_fragments: int) -> None:
        self.documents = documents
        self.max_fragments = max_fragments
        self.hit = False

    def on_parse(self) -> Iterator[None]:
        ctx = self.execution_context
        if ctx.query and ctx.graphql_document is None:
            document = self.documents.get(ctx.query)
            if document is not None:
                ctx.graphql_document, self.hit = document, True
        yield

    def on_validate(self) -> Iterator[None]:
        ctx = self.execution_context
        if self.hit or ctx.pre_execution_errors == []:
            # Validated when it was stored, here or as a registered document (graph.persisted).
            ctx.pre_execution_errors = []
            yield
            return
        if ctx.graphql_document is not None:
            # graphql-core's OverlappingFieldsCanBeMerged compares fragments pairwise: 250
            # named fragments of `__typename` (under the token limit) took ~0.5 s of CPU to
            # validate. Counted before validation, which a set error skips.
            fragments = count_fragments(ctx.graphql_document)
            if fragments > self.max_fragments:
                ctx.pre_execution_errors = [
                    GraphQLError(
                        f"the document has {fragments} fragments (definitions, spreads and "
                        f"inline fragments); at most {self.max_fragments} are allowed"
                    )
                ]
        yield
        valid = ctx.pre_execution_errors == []
        if valid and ctx.query and ctx.graphql_document is not None:
            self.documents.put(ctx.query, ctx.graphql_document)


class _FragmentCounter(Visitor):
    def __init__(self) -> None:
        super().__init__()
        self.count = 0

    def enter_fragment_definition(self, *_: object) -> None:
        self.count += 1

    def enter_fragment_spread(self, *_: object) -> None:
        self.count += 1

    def enter_inline_fragment(self, *_: object) -> None:
        self.count += 1


def count_fragments(document: DocumentNode) -> int:
    """Fragment definitions, spreads and inline fragments in `document` (one linear walk)."""
    counter = _FragmentCounter()
    visit(document, counter)
    return counter.count
