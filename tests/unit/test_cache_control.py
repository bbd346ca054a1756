"""Which documents the response cache may keep, for how long and under which prefixes
(graph.cache_control), on the real schema; the key and labels of app.responses."""

from __future__ import annotations

import uuid

import pytest
from graphql import parse

from app.metrics import OTHER
from app.responses import (
    MAX_DOCUMENT_LABELS,
    Probe,
    ResponseCache,
    caller_key,
    entry_key,
    principal_key,
)
from domain.auth.permissions import Permission, Principal, PrincipalKind
from graph.cache_control import Plan, cache_control, hinted_fields, plan_of
from graph.schema import schema
from infrastructure.cache.memory import MemoryCache
from infrastructure.cache.responses import MemoryResponses

SCHEMA = schema._schema


def plan(document: str, operation: str | None = None) -> Plan | None:
    return plan_of(SCHEMA, parse(document), operation)


@pytest.mark.parametrize(
    ("document", "expected"),
    [
        ('{ order(id: "x") { id orderId clientName flags { field } } }',
         Plan(60, ("order", "orders"))),
        ("{ orders { totalCount edges { cursor node { id } } pageInfo { hasNextPage } } }",
         Plan(30, ("orders",))),
        ("{ orderStats(groupBy: BRANCH) { key count totalAmount } }", Plan(60, ("order-stats",))),
        # The least max age, the union of the prefixes.
        ('{ order(id: "x") { id } orders { edges { node { id } } } }',
         Plan(30, ("order", "orders"))),
        ('{ workflows { totalCount edges { node { id definition } } } }',
         Plan(60, ("workflows-enabled",))),
        # Fragments, named and inline, are walked like the fields they stand for.
        ('query { ...Q } fragment Q on Query { order(id: "x") { ...O } } '
         "fragment O on Order { id ... on Order { amount } }", Plan(60, ("order", "orders"))),
        ('{ __typename order(id: "x") { __typename id } }', Plan(60, ("order", "orders"))),
    ],
)  # fmt: skip
def test_documents_of_declared_fields_are_cacheable(document: str, expected: Plan) -> None:
    assert plan(document) == expected


@pytest.mark.parametrize(
    "document",
    [
        '{ order(id: "x") { id events { type } } }',  # a resolver without @cacheControl
        '{ order(id: "x") { id contactSync { synced } } }',
        '{ order(id: "x") { id ...E } } fragment E on Order { notifications { id } }',
        "{ me { name } }",  # the caller's own: never
        "{ logs { edges { node { message } } } }",  # no eviction prefix
        "{ workflowRuns { edges { node { id } } } }",
        "{ failedJobs { edges { node { id } } } }",
        "{ __typename }",  # nothing to be evicted by
        "{ __schema { types { name } } }",
        '{ order(id: "x") { id noSuchField } }',
        'mutation { markOrdersProcessed(ids: ["x"]) }',
        "subscription { nothing }",
    ],
)
def test_everything_else_is_not(document: str) -> None:
    assert plan(document) is None


def test_the_operation_named_is_the_one_planned() -> None:
    document = 'query A { me { name } } query B { order(id: "x") { id } }'
    assert plan(document, "A") is None
    assert plan(document, "B") == Plan(60, ("order", "orders"), operation="B")
    assert plan(document) is None  # two operations and no name: nothing runs
    assert plan('{ order(id: "x") { id } }') == Plan(60, ("order", "orders"), "anonymous")


def test_every_declaration_names_an_evicted_prefix() -> None:
    from app.cache_admin import KNOWN_PREFIXES

    hints = list(hinted_fields(SCHEMA))
    assert {(t, f) for t, f, _ in hints} >= {("Query", "order"), ("OrderConnection", "totalCount")}
    for type_name, field_name, hint in hints:
        assert hint.max_age > 0, (type_name, field_name)
        assert set(hint.evicted_by) <= set(KNOWN_PREFIXES), (type_name, field_name)


def test_a_declaration_needs_a_prefix() -> None:
    with pytest.raises(ValueError, match="at least one prefix"):
        cache_control(30)


def test_the_key_holds_the_permission_set_not_who_holds_it() -> None:
    base = entry_key("doc", "Q", b'{"id":"1"}')
    assert base != entry_key("doc", "R", b'{"id":"1"}')
    assert base != entry_key("doc", "Q", b'{"id":"2"}')
    assert base != entry_key("doc2", "Q", b'{"id":"1"}')
    a = caller_key(base, ["orders:read", "logs:read"])
    assert a == caller_key(base, ["logs:read", "orders:read"])
    assert a != caller_key(base, ["orders:read"])
    assert a != caller_key(base, [])


def test_document_labels_are_bounded() -> None:
    cache = ResponseCache(MemoryResponses(MemoryCache()), max_age_s=60)
    assert cache.label("a" * 64, by_hash=False) == OTHER
    hashes = [f"{n:064x}" for n in range(MAX_DOCUMENT_LABELS + 5)]
    labels = [cache.label(h, by_hash=True) for h in hashes]
    assert labels[:MAX_DOCUMENT_LABELS] == hashes[:MAX_DOCUMENT_LABELS]
    assert set(labels[MAX_DOCUMENT_LABELS:]) == {OTHER}
    assert cache.label(hashes[0], by_hash=True) == hashes[0]  # a known one keeps its label


async def test_the_max_age_is_capped_by_the_setting() -> None:
    cache = ResponseCache(MemoryResponses(MemoryCache()), max_age_s=10)
    assert (await cache.lookup(Probe("k", OTHER, ("orders",), 60), [])).max_age == 10
    assert (await cache.lookup(Probe("k", OTHER, ("orders",), 5), [])).max_age == 5


@pytest.mark.parametrize("raw", ["0", "-5", "inf", "nan", "soon"])
def test_a_malformed_max_age_setting_stops_the_start(raw: str) -> None:
    from visapi.settings import SettingsError, load_settings

    with pytest.raises(SettingsError, match="VISAPI_RESPONSE_CACHE_MAX_AGE_S"):
        load_settings({"VISAPI_RESPONSE_CACHE_MAX_AGE_S": raw})


def test_the_response_cache_setting_is_a_boolean() -> None:
    from visapi.settings import SettingsError, load_settings

    assert load_settings({"VISAPI_RESPONSE_CACHE": "false"}).response_cache is False
    with pytest.raises(SettingsError, match="VISAPI_RESPONSE_CACHE"):
        load_settings({"VISAPI_RESPONSE_CACHE": "maybe"})


def test_a_principal_key_is_the_caller_key_of_its_permissions() -> None:
    held = frozenset({Permission.ORDERS_READ, Permission.LOGS_READ})
    principal = Principal(kind=PrincipalKind.API_KEY, id=uuid.uuid4(), name="k", permissions=held)
    assert principal_key("base", principal) == caller_key("base", ["logs:read", "orders:read"])
