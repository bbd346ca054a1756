"""How a request names its document: Apollo's `extensions.persistedQuery`, Relay's
`documentId`/`doc_id` (`reference_of`, read by graph.persisted at execution and by
graph.response_cache before it), and the identity of the document that ran (`DocumentIdentity`).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

from graph.errors import CodedError

DOCUMENT_ID = "documentId"  # where a transport puts Relay's documentId / doc_id (extensions)
_DOCUMENT_ID_FIELDS = ("documentId", "doc_id")


class DocumentIdentity:
    """What a response cache and per-document metrics need to know about a request's document.

    `sha256`: hex digest of the document's text (computed on first use); `id`: the registered
    document's id (an APQ sha256 or a manifest's id), None for a free-form document.
    """

    __slots__ = ("_sha256", "id", "text")

    def __init__(self, text: str, id: str | None = None, sha256: str | None = None) -> None:
        self.text = text
        self.id = id
        self._sha256 = sha256

    @property
    def registered(self) -> bool:
        return self.id is not None

    @property
    def sha256(self) -> str:
        if self._sha256 is None:
            self._sha256 = sha256_hex(self.text)
        return self._sha256


def sha256_hex(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


@dataclass(frozen=True, slots=True)
class Reference:
    id: str
    apq: bool  # Apollo's persistedQuery (a sha256 a document may come with), else documentId


def with_document_id(data: dict[str, Any], extensions: dict[str, Any] | None) -> Any:
    """The request's extensions with Relay's `documentId` or `doc_id` (top-level request
    fields) moved in, where `reference_of` reads it at execution."""
    for name in _DOCUMENT_ID_FIELDS:
        if data.get(name) is not None:
            return {**(extensions or {}), DOCUMENT_ID: data[name]}
    return extensions


def names_document(params: Any) -> bool:
    """Whether request parameters (a GET's) name a persisted document."""
    return "extensions" in params or any(name in params for name in _DOCUMENT_ID_FIELDS)


def reference_of(extensions: dict[str, Any] | None) -> Reference | None:
    """The persisted document a request names, if any; a CodedError for a malformed one."""
    if not extensions:
        return None
    if (document_id := extensions.get(DOCUMENT_ID)) is not None:
        if not isinstance(document_id, str) or not 0 < len(document_id) <= 128:
            raise invalid_reference("documentId must be the id of a registered document (a string)")
        return Reference(document_id, apq=False)
    persisted = extensions.get("persistedQuery")
    if persisted is None:
        return None
    if not isinstance(persisted, dict):
        raise invalid_reference("extensions.persistedQuery must be an object {version, sha256Hash}")
    if persisted.get("version") != 1:
        raise invalid_reference(
            f"unsupported persisted query version {persisted.get('version')!r}: 1 is supported"
        )
    digest = persisted.get("sha256Hash")
    if not isinstance(digest, str) or not 0 < len(digest) <= 128:
        raise invalid_reference("extensions.persistedQuery.sha256Hash must be a string")
    return Reference(digest, apq=True)


def invalid_reference(message: str) -> CodedError:
    return CodedError(message, "INVALID_INPUT", field="extensions")
