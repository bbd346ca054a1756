"""The whole-response cache: a read document's answer stored under its document, variables,
operation and the caller's permission set, and evicted by the generations of the cache prefixes
its fields depend on (app.cache), so a write is visible on the very next read.

Which documents are cacheable, and for how long, is the schema's to say (graph.cache_control);
this module keeps the rules that do not depend on GraphQL:
- the key holds the caller's permissions, never its identity: two keys with the same scopes
  share entries, and a caller whose permissions differ never gets an answer computed for
  another (personal fields are gated by permission, so the answer depends on nothing else);
- an answer is stored only under the generations read before it was computed (the store
  compares them): a write committing while the read runs leaves no stale entry;
- the backend failing is a miss, never an error.
"""

from __future__ import annotations

import functools
import hashlib
import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Protocol

from app.metrics import NO_METRICS, OTHER, Metrics
from domain.auth.permissions import Permission, Principal

# The request state's key of an answer the gate looked up with the admission: (probe, (answer
# or None, generations)).
PREFETCHED = "prefetched_answer"
# Distinct document labels a process counts under their own name (the rest: `other`), so that
# clients inventing hashes cannot grow the metrics' series without bound.
MAX_DOCUMENT_LABELS = 200


class ResponseStore(Protocol):
    """Entries under a key and the generations of the prefixes they depend on."""

    async def lookup(self, key: str, prefixes: Sequence[str]) -> tuple[bytes | None, str | None]:
        """The entry of the prefixes' current generations (None: miss) and those generations
        (None: the backend could not be asked; then store nothing). One round trip."""
        ...

    async def store(
        self, key: str, prefixes: Sequence[str], generations: str, value: bytes, ttl: float
    ) -> None:
        """Store only while the prefixes are still at `generations` and none is sealed."""
        ...


@dataclass(frozen=True)
class Probe:
    """A cacheable request before its caller is known: its answer's key but for the caller's
    permissions (`entry_key`), its metrics label, the prefixes it depends on, its max age."""

    key: str
    label: str
    prefixes: tuple[str, ...]
    max_age: float
    operation: str = OTHER  # the operation metrics' label of the operation (graph.metrics)


@dataclass(frozen=True)
class Lookup:
    """One lookup: the cached answer (None: a miss) and what storing the fresh one needs."""

    key: str
    prefixes: tuple[str, ...]
    max_age: float
    body: bytes | None
    generations: str | None
    operation: str = OTHER


def entry_key(document_hash: str, operation_name: str | None, variables: bytes) -> str:
    """The digest of what an answer depends on but its caller. `variables` is canonical JSON
    (sorted keys)."""
    text = "\x1f".join((document_hash, operation_name or "")).encode() + b"\x1f" + variables
    return hashlib.blake2b(text, digest_size=20).hexdigest()


def caller_key(key: str, permissions: Iterable[str]) -> str:
    """`key` for a caller holding `permissions`: the SHA-1 of their sorted, comma-joined
    values (what the admission script computes from a cached check, so that it can look an
    answer up in the same round trip)."""
    return f"{key}:{_held_digest(','.join(sorted(permissions)))}"


def principal_key(key: str, principal: Principal) -> str:
    """`caller_key` of `principal`'s permissions, their digest computed once per set."""
    return f"{key}:{_digest_of(principal.permissions)}"


@functools.lru_cache(maxsize=1024)
def _held_digest(held: str) -> str:
    return hashlib.sha1(held.encode(), usedforsecurity=False).hexdigest()


@functools.lru_cache(maxsize=1024)
def _digest_of(permissions: frozenset[Permission]) -> str:
    return _held_digest(",".join(sorted(p.value for p in permissions)))


class ResponseCache:
    """Lookups and stores of whole answers, with hit and miss counts per document label."""

    def __init__(
        self, store: ResponseStore, *, max_age_s: float, metrics: Metrics = NO_METRICS
    ) -> None:
        if max_age_s <= 0:
            raise ValueError("the response cache's max age must be positive")
        self.store = store
        self.max_age_s = max_age_s
        self._metrics = metrics
        self._labels: set[str] = set()
        self._lock = threading.Lock()

    def label(self, document_hash: str, by_hash: bool) -> str:
        """The metrics label: the hash of a document sent by hash (while labels last), else
        `other`."""
        if not by_hash:
            return OTHER
        if document_hash in self._labels:
            return document_hash
        with self._lock:
            if len(self._labels) >= MAX_DOCUMENT_LABELS:
                return OTHER
            self._labels.add(document_hash)
        return document_hash

    async def lookup(self, probe: Probe, permissions: Iterable[str]) -> Lookup:
        key = caller_key(probe.key, permissions)
        body, generations = await self.store.lookup(key, probe.prefixes)
        return self.looked_up(probe, key, body, generations)

    def looked_up(
        self, probe: Probe, key: str, body: bytes | None, generations: str | None
    ) -> Lookup:
        """The lookup of `probe` under `key` (the caller's), counted; for a lookup made
        elsewhere too (the admission's round trip, app.auth.admit)."""
        self._metrics.response_lookup(probe.label, body is not None)
        max_age = min(probe.max_age, self.max_age_s)
        return Lookup(key, probe.prefixes, max_age, body, generations, probe.operation)

    def served(self, lookup: Lookup, seconds: float) -> None:
        """A hit answered: counted as the operation it stands for, like an executed one."""
        self._metrics.graphql_operation(lookup.operation, "query", True, seconds)

    async def keep(self, lookup: Lookup, body: bytes) -> None:
        """Store a fresh answer computed after `lookup` (the caller checked it has no errors)."""
        if lookup.generations is None:
            return  # the backend was unreachable: nothing may be stored
        await self.store.store(
            lookup.key, lookup.prefixes, lookup.generations, body, lookup.max_age
        )
