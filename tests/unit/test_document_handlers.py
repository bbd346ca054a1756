"""Registering documents on the fake unit of work: APQ registrations (idempotent, capped per
caller) and manifest pushes (all or none, idempotent, APQ documents trusted by a push)."""

from __future__ import annotations

from functools import partial

import pytest

from app.documents.commands import PushDocuments, RegisterDocument
from app.documents.handlers import OverCap, push_documents, register_document, sha256_hex
from app.documents.manifest import ManifestEntry
from app.documents.ports import CheckedDocument, Source
from app.errors import InvalidInput
from graph.document_check import SchemaDocumentCheck
from graph.schema import build_schema
from tests.fakes import FakeUnitOfWorkFactory
from tests.unit.handler_support import T0, Clock

ME = "{ me { name } }"
ORDER = "query Order($id: ID!) { order(id: $id) { id } }"


def check(body: str) -> CheckedDocument:
    """Stands for the schema: a document mentioning `nope` is invalid."""
    if "nope" in body:
        raise InvalidInput('is not valid: Cannot query field "nope" on type "Query".')
    return CheckedDocument(operation_name=None, operation_type="query")


@pytest.fixture
def uow() -> FakeUnitOfWorkFactory:
    return FakeUnitOfWorkFactory()


def register(uow: FakeUnitOfWorkFactory, cap: int = 2):  # type: ignore[no-untyped-def]
    return partial(register_document, uow=uow, cap=cap, now=Clock())


def apq(body: str, owner: str = "api_key:1") -> RegisterDocument:
    return RegisterDocument(id=sha256_hex(body), body=body, owner=owner, actor="key:abc")


async def test_registration_is_idempotent_and_capped_per_caller(uow: FakeUnitOfWorkFactory) -> None:
    handle = register(uow, cap=2)
    first = await handle(apq(ME))
    assert (first.id, first.source, first.owner, first.created_at) == (
        sha256_hex(ME),
        Source.APQ,
        "api_key:1",
        T0,
    )
    assert await handle(apq(ME)) == first  # again: nothing new, not counted
    await handle(apq(ORDER))
    with pytest.raises(OverCap) as over:
        await handle(apq("{ __typename }"))
    assert over.value.limit == 2
    assert "registered 2 persisted documents" in over.value.message
    assert "VISAPI_DOCUMENTS_MAX_PER_CALLER=2" in over.value.message
    assert set(uow.store.documents) == {sha256_hex(ME), sha256_hex(ORDER)}
    # Another caller has a cap of its own; a document registered already passes for anyone.
    await handle(apq("{ __typename }", owner="user:2"))
    assert (await handle(apq(ME, owner="api_key:3"))).owner == "api_key:1"
    assert len(uow.store.documents) == 3


def push(uow: FakeUnitOfWorkFactory):  # type: ignore[no-untyped-def]
    return partial(push_documents, uow=uow, check=check, now=Clock())


async def test_push_stores_all_then_nothing_new(uow: FakeUnitOfWorkFactory) -> None:
    entries = (ManifestEntry("md5-1", ME, "Me"), ManifestEntry("md5-2", ORDER))
    pushed = await push(uow)(PushDocuments(entries=entries, actor="cli"))
    assert (pushed.added, pushed.unchanged, pushed.trusted) == (2, 0, 0)
    stored = uow.store.documents
    assert {(d.id, d.source, d.operation_name, d.sha256) for d in stored.values()} == {
        ("md5-1", Source.MANIFEST, "Me", sha256_hex(ME)),
        ("md5-2", Source.MANIFEST, None, sha256_hex(ORDER)),
    }
    commits = uow.store.commits
    again = await push(uow)(PushDocuments(entries=entries))
    assert (again.added, again.unchanged, again.trusted) == (0, 2, 0)
    assert len(stored) == 2
    assert uow.store.commits == commits + 1


async def test_one_bad_entry_stores_nothing_and_is_named(uow: FakeUnitOfWorkFactory) -> None:
    entries = (ManifestEntry("ok", ME), ManifestEntry("broken", "{ nope }", "Broken"))
    with pytest.raises(InvalidInput) as refused:
        await push(uow)(PushDocuments(entries=entries))
    assert refused.value.message.startswith("document broken (Broken): is not valid: Cannot query")
    assert uow.store.documents == {}
    assert uow.store.commits == 0


async def test_an_id_taken_by_another_text_refuses_the_push(uow: FakeUnitOfWorkFactory) -> None:
    await push(uow)(PushDocuments(entries=(ManifestEntry("id-1", ME),)))
    entries = (ManifestEntry("id-2", ORDER), ManifestEntry("id-1", "{ __typename }"))
    with pytest.raises(InvalidInput, match="document id-1: another document is stored"):
        await push(uow)(PushDocuments(entries=entries))
    assert set(uow.store.documents) == {"id-1"}


async def test_a_pushed_apq_document_becomes_trusted(uow: FakeUnitOfWorkFactory) -> None:
    await register(uow)(apq(ME))
    entries = (ManifestEntry(sha256_hex(ME), ME), ManifestEntry("new", ORDER))
    pushed = await push(uow)(PushDocuments(entries=entries))
    assert (pushed.added, pushed.unchanged, pushed.trusted) == (1, 0, 1)
    assert uow.store.documents[sha256_hex(ME)].source is Source.MANIFEST
    # No longer counted against its registrant's cap.
    await register(uow, cap=1)(apq("{ __typename }"))


def test_the_schema_check_names_what_is_wrong() -> None:
    schema_check = SchemaDocumentCheck(build_schema(max_depth=3, max_tokens=50))
    assert schema_check(ORDER) == CheckedDocument("Order", "query")
    assert schema_check('mutation { flushCache(pattern: "*") }').operation_type == "mutation"
    for body, message in (
        ("{ order(id: ", "does not parse: Syntax Error"),
        ("{ nope }", "is not valid: Cannot query field 'nope' on type 'Query'."),
        ("{ me { name } } { me { id } }", "is not valid:"),
        ("{ " + "me { name } " * 20 + "}", "Document contains more than 50 tokens"),
        (
            "{ orders { edges { node { events { type } } } } }",
            "exceeds maximum operation depth of 3",
        ),
    ):
        with pytest.raises(InvalidInput) as refused:
            schema_check(body)
        assert message in refused.value.message, refused.value.message
