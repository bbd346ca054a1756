"""The two manifest formats frontends build, read into entries: Apollo's persisted-query
manifest (`@apollo/generate-persisted-query-manifest`) and Relay's `persisted-queries.json`
(the compiler's `persistConfig: {file: ...}`)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from app.errors import InvalidInput

APOLLO_FORMAT = "apollo-persisted-query-manifest"
MAX_ID_LENGTH = 128
# What clients send back as `sha256Hash` or `documentId`: no spaces or controls, so an id
# reads the same in a URL, a log line and the database.
_ID = re.compile(r"[\x21-\x7e]{1,128}")


@dataclass(frozen=True, slots=True)
class ManifestEntry:
    id: str
    body: str
    name: str | None = None  # the operation name the manifest gives, if any


def read_manifest(data: Any) -> tuple[str, tuple[ManifestEntry, ...]]:
    """(format name, entries) of a decoded manifest; InvalidInput naming the first bad entry."""
    if not isinstance(data, dict):
        raise InvalidInput("a manifest is a JSON object (Apollo's or Relay's format)")
    if "format" in data:
        return "apollo", _apollo(data)
    return "relay", _relay(data)


def _apollo(data: dict[str, Any]) -> tuple[ManifestEntry, ...]:
    if data.get("format") != APOLLO_FORMAT:
        raise InvalidInput(f"unknown manifest format {str(data['format'])[:64]!r}")
    if data.get("version") != 1:
        raise InvalidInput(f"unsupported {APOLLO_FORMAT} version {data.get('version')!r} (1 is)")
    operations = data.get("operations")
    if not isinstance(operations, list):
        raise InvalidInput("`operations` must be a list")
    entries = []
    for index, operation in enumerate(operations):
        where = f"operations[{index}]"
        if not isinstance(operation, dict):
            raise InvalidInput(f"{where} must be an object with id, name, type and body")
        name = operation.get("name")
        if name is not None and not isinstance(name, str):
            raise InvalidInput(f"{where}.name must be a string")
        entries.append(_entry(where, operation.get("id"), operation.get("body"), name))
    return _unique(entries)


def _relay(data: dict[str, Any]) -> tuple[ManifestEntry, ...]:
    if not data:
        raise InvalidInput("the manifest has no documents")
    return _unique([_entry(f"{str(id)[:MAX_ID_LENGTH]!r}", id, body) for id, body in data.items()])


def _entry(where: str, id: Any, body: Any, name: str | None = None) -> ManifestEntry:
    if not isinstance(id, str) or not _ID.fullmatch(id):
        raise InvalidInput(
            f"{where}: the id must be 1-{MAX_ID_LENGTH} printable characters without spaces"
        )
    if not isinstance(body, str) or not body.strip():
        raise InvalidInput(f"{where} (id {id}): the body must be a non-empty GraphQL document")
    return ManifestEntry(id, body, name)


def _unique(entries: list[ManifestEntry]) -> tuple[ManifestEntry, ...]:
    by_id: dict[str, ManifestEntry] = {}
    for entry in entries:
        seen = by_id.get(entry.id)
        if seen is not None and seen.body != entry.body:
            raise InvalidInput(f"id {entry.id} is given twice, with different documents")
        by_id.setdefault(entry.id, entry)
    return tuple(by_id.values())
