"""The persisted-documents extension at execution, on the fakes: the APQ exchange, the mode
rule for each caller, and a registered document parsed and validated once per process."""

from __future__ import annotations

import uuid
from functools import partial
from types import SimpleNamespace
from typing import Any

import pytest
import strawberry.schema.schema as strawberry_schema

from app.bus import MessageBus
from app.documents.commands import RegisterDocument
from app.documents.handlers import register_document, sha256_hex
from app.documents.ports import DocumentsMode, Source, StoredDocument
from app.documents.queries import DocumentQueries
from domain.auth.permissions import Permission, Principal, PrincipalKind
from graph import document_check
from graph.persisted import NOT_FOUND, REQUIRED, document_of, refusal
from graph.schema import Schema, build_schema
from tests.fakes import FakeDocumentReads, FakeStore, FakeUnitOfWorkFactory
from tests.unit.handler_support import Clock

DOC = "query Probe { __typename }"
HASH = sha256_hex(DOC)


def principal(*permissions: Permission) -> Principal:
    return Principal(
        kind=PrincipalKind.API_KEY,
        id=uuid.uuid4(),
        name="tests",
        permissions=frozenset(permissions),
        key_prefix="abc",
    )


KEY = principal(Permission.ORDERS_READ)
ADMIN = principal(Permission.ADMIN)


class Harness:
    def __init__(self, mode: DocumentsMode = DocumentsMode.ANY, cap: int = 10) -> None:
        self.store = FakeStore()
        self.reads = FakeDocumentReads(self.store)
        uow = FakeUnitOfWorkFactory(self.store)
        handler = partial(register_document, uow=uow, cap=cap, now=Clock())
        self.bus = MessageBus({RegisterDocument: handler})
        self.schema: Schema = build_schema(documents_mode=mode, registered_documents=8)

    def context(self, caller: Principal | None) -> Any:
        return SimpleNamespace(
            principal=caller,
            services=SimpleNamespace(documents=DocumentQueries(self.reads)),
            bus=self.bus,
            correlation_id="c-1",
            document=None,
            added_errors=[],
        )

    async def run(
        self,
        query: str | None,
        extensions: dict[str, Any] | None,
        caller: Principal | None,
        operation_name: str | None = None,
    ) -> tuple[Any, Any]:
        context = self.context(caller)
        result = await self.schema.execute(
            query,
            context_value=context,
            operation_extensions=extensions,
            operation_name=operation_name,
        )
        return result, context


def apq(digest: str = HASH, version: int = 1) -> dict[str, Any]:
    return {"persistedQuery": {"version": version, "sha256Hash": digest}}


def code(result: Any) -> str:
    [error] = result.errors
    return str(error.extensions["code"])


async def test_apq_exchange_and_a_document_parsed_once(monkeypatch: pytest.MonkeyPatch) -> None:
    h = Harness()
    parses, validations = [], []
    # Strawberry's own parse and validation, and graph.document_check's (a registered document's).
    for module in (strawberry_schema, document_check):
        real_parse, real_validate = module.parse, module.validate_document
        monkeypatch.setattr(
            module, "parse", lambda *a, _p=real_parse, **k: parses.append(1) or _p(*a, **k)
        )
        monkeypatch.setattr(
            module,
            "validate_document",
            lambda *a, _v=real_validate, **k: validations.append(1) or _v(*a, **k),
        )

    missing, _ = await h.run(None, apq(), KEY)
    assert code(missing) == NOT_FOUND
    assert missing.errors[0].message == "PersistedQueryNotFound"
    registered, context = await h.run(DOC, apq(), KEY)
    assert registered.errors is None
    assert registered.data == {"__typename": "Query"}
    stored = h.store.documents[HASH]
    assert (stored.source, stored.owner, stored.operation_name) == (
        Source.APQ,
        f"api_key:{KEY.id}",
        "Probe",
    )
    identity = document_of(context)
    assert identity is not None
    assert (identity.id, identity.sha256) == (HASH, HASH)
    assert (len(parses), len(validations), h.reads.lookups) == (1, 1, 2)

    for _ in range(5):
        result, context = await h.run(None, apq(), None)  # anyone may run it by hash
        assert result.data == {"__typename": "Query"}
        assert document_of(context).registered  # type: ignore[union-attr]
    # Never parsed, validated or looked up again in this process.
    assert (len(parses), len(validations), h.reads.lookups) == (1, 1, 2)


async def test_a_document_registered_elsewhere_is_read_once() -> None:
    h = Harness()
    h.store.documents[HASH] = StoredDocument(HASH, DOC, HASH, Source.APQ, owner="user:x")
    for _ in range(3):
        result, _ = await h.run(None, apq(), KEY)
        assert result.data == {"__typename": "Query"}
    assert h.reads.lookups == 1


async def test_mismatch_version_and_shape_are_refused_before_anything() -> None:
    h = Harness()
    mismatch, _ = await h.run("{ __typename }", apq(), KEY)
    [error] = mismatch.errors
    assert error.extensions == {"code": "INVALID_INPUT", "field": "extensions"}
    assert error.message.startswith("provided sha does not match query")
    assert HASH in error.message
    assert sha256_hex("{ __typename }") in error.message
    for extensions, message in (
        (apq(version=2), "unsupported persisted query version 2: 1 is supported"),
        ({"persistedQuery": "x"}, "must be an object"),
        ({"persistedQuery": {"version": 1}}, "sha256Hash must be a string"),
        ({"documentId": 5}, "documentId must be the id of a registered document"),
    ):
        result, _ = await h.run(DOC, extensions, KEY)
        assert message in result.errors[0].message
    both, _ = await h.run(DOC, {"documentId": "x"}, KEY)
    assert "not both" in both.errors[0].message
    assert h.store.documents == {}
    assert h.reads.lookups == 0


async def test_anonymous_apq_runs_unstored_where_free_form_runs() -> None:
    h = Harness()
    result, context = await h.run(DOC, apq(), None)
    assert result.data == {"__typename": "Query"}
    assert h.store.documents == {}
    assert not document_of(context).registered  # type: ignore[union-attr]
    again, _ = await h.run(None, apq(), None)
    assert code(again) == NOT_FOUND


async def test_over_the_cap_nothing_runs_or_is_stored() -> None:
    h = Harness(cap=1)
    await h.run(DOC, apq(), KEY)
    other = "query Other { __typename }"
    result, _ = await h.run(other, apq(sha256_hex(other)), KEY)
    assert code(result) == "PERSISTED_QUERY_LIMIT"
    assert result.data is None
    assert result.errors[0].extensions["limit"] == 1
    assert set(h.store.documents) == {HASH}


MANIFEST_DOC = StoredDocument("md5-id", DOC, HASH, Source.MANIFEST)
APQ_DOC = StoredDocument("apq-id", DOC, HASH, Source.APQ, owner="api_key:x")


@pytest.mark.parametrize(
    ("mode", "caller", "stored", "refused"),
    [
        (DocumentsMode.ANY, None, None, False),
        (DocumentsMode.PERSISTED, None, None, True),
        (DocumentsMode.PERSISTED, KEY, None, True),
        (DocumentsMode.PERSISTED, ADMIN, None, False),
        (DocumentsMode.PERSISTED, None, APQ_DOC, False),
        (DocumentsMode.PERSISTED, KEY, MANIFEST_DOC, False),
        (DocumentsMode.TRUSTED, None, None, True),
        (DocumentsMode.TRUSTED, KEY, APQ_DOC, True),
        (DocumentsMode.TRUSTED, KEY, MANIFEST_DOC, False),
        (DocumentsMode.TRUSTED, None, MANIFEST_DOC, False),
        (DocumentsMode.TRUSTED, ADMIN, None, False),
        (DocumentsMode.TRUSTED, ADMIN, APQ_DOC, False),
    ],
)
def test_the_rule(
    mode: DocumentsMode, caller: Principal | None, stored: StoredDocument | None, refused: bool
) -> None:
    error = refusal(mode, caller, stored)
    assert (error is not None) == refused
    if error is not None:
        assert error.extensions == {"code": REQUIRED, "mode": mode.value}
        assert f"VISAPI_DOCUMENTS={mode.value}" in error.message


async def test_trusted_mode_runs_manifest_documents_by_relay_id() -> None:
    h = Harness(DocumentsMode.TRUSTED)
    h.store.documents["md5-id"] = MANIFEST_DOC
    h.store.documents["apq-id"] = APQ_DOC
    result, _ = await h.run(None, {"documentId": "md5-id"}, None)
    assert result.data == {"__typename": "Query"}
    for query, extensions in ((None, {"documentId": "apq-id"}), (DOC, None), (DOC, apq())):
        refused, _ = await h.run(query, extensions, KEY)
        assert code(refused) == REQUIRED, (query, extensions)
    admin, _ = await h.run(DOC, apq(), ADMIN)
    assert admin.data == {"__typename": "Query"}
    assert set(h.store.documents) == {"md5-id", "apq-id"}  # no APQ registration in trusted


async def test_refusals_are_results_on_the_streaming_path_too() -> None:
    """What WebSocket and SSE transports call (schema.stream): a refusal is an error result,
    not an exception escaping the operation; the operation name a client sent is no obstacle."""
    h = Harness(DocumentsMode.TRUSTED)
    free = await h.schema.stream("{ __typename }", context_value=h.context(KEY))
    assert [code(r) async for r in free] == [REQUIRED]
    missing = await h.schema.stream(
        None, context_value=h.context(KEY), operation_name="Me", operation_extensions=apq()
    )
    assert [code(r) async for r in missing] == [NOT_FOUND]
    h.store.documents["md5-id"] = MANIFEST_DOC
    served = await h.schema.stream(
        None, context_value=h.context(None), operation_extensions={"documentId": "md5-id"}
    )
    assert [r.data async for r in served] == [{"__typename": "Query"}]


async def test_not_found_names_no_operation_it_cannot_find() -> None:
    result, _ = await Harness().run(None, apq(), KEY, operation_name="Me")
    assert code(result) == NOT_FOUND


async def test_a_stored_document_that_no_longer_validates_is_refused_naming_it() -> None:
    h = Harness()
    h.store.documents["old"] = StoredDocument("old", "{ removedField }", "x", Source.MANIFEST)
    result, _ = await h.run(None, {"documentId": "old"}, ADMIN, operation_name="Gone")
    [error] = result.errors
    assert error.extensions == {"code": "INVALID_INPUT", "field": "extensions"}
    assert error.message.startswith("the registered document old is not valid: Cannot query")
