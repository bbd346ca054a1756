"""`@cacheControl`: how long a field's data may be served from the response cache, and the
cache prefixes whose eviction (app.cache's generations) makes it stale.

A document's plan is computed once per document (graph.response_cache keeps it by hash): its
max age is the least over the fields it selects, its prefixes the union. The rule per field:
- a field declaring `@cacheControl` counts with its max age and prefixes;
- a field without a resolver (an attribute of the object its parent resolved: `Order.amount`,
  `OrderEdge.node`) adds nothing: its data was loaded by the parent, which declared it;
- any other field (a root field, or a child with a resolver of its own, such as `Order.events`
  or `me`) without the directive makes the whole document uncacheable, as does `maxAge: 0`, an
  unknown field, introspection, or a document that caches nothing under any prefix (the
  response would have nothing to be evicted by).
This is Apollo's inheritance of scalar fields, widened to every resolver-less field, because
here resolvers are what reads data: a field that reads nothing cannot be staler than its parent.
"""

from __future__ import annotations

import hashlib
import re
import threading
from collections import OrderedDict
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import strawberry
from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    GraphQLField,
    GraphQLNamedType,
    GraphQLSchema,
    InlineFragmentNode,
    OperationDefinitionNode,
    OperationType,
    SelectionSetNode,
    get_named_type,
    get_operation_ast,
    parse,
    print_schema,
)
from strawberry.schema_directive import Location
from strawberry.types.field import StrawberryField

from app.metrics import ANONYMOUS, INVALID

_NAME = re.compile(r"[_A-Za-z][_0-9A-Za-z]{0,99}")  # as graph.metrics labels operations


@strawberry.schema_directive(
    locations=[Location.FIELD_DEFINITION],
    name="cacheControl",
    description=(
        "The field's data may be served from the response cache for up to `maxAge` seconds,"
        " and is evicted at once by any write to the data named by `evictedBy` (cache"
        " prefixes, as in flushCache). A document is cached only if every field it selects"
        ' that reads data declares it (see the README, "Response cache").'
    ),
)
class CacheControl:
    max_age: int
    evicted_by: list[str]


# Strawberry drops the descriptions of a schema directive's arguments (it builds them without
# one), so they are set on the built schema: see `describe_arguments`.
ARGUMENT_DESCRIPTIONS = {
    "maxAge": "Seconds the field's data may be served from the response cache.",
    "evictedBy": "The cache prefixes whose eviction (a write to their data) makes it stale.",
}


def describe_arguments(gql_schema: GraphQLSchema) -> None:
    """Give `@cacheControl`'s arguments their descriptions, on the schema built by strawberry."""
    directive = gql_schema.get_directive("cacheControl")
    if directive is not None:
        for name, argument in directive.args.items():
            argument.description = ARGUMENT_DESCRIPTIONS[name]


def cache_control(max_age: int, *evicted_by: str) -> list[object]:
    """For `strawberry.field(directives=cache_control(60, "order", "orders"))`."""
    if max_age < 0 or not evicted_by:
        raise ValueError("cache_control needs a max age >= 0 and at least one prefix")
    return [CacheControl(max_age=max_age, evicted_by=list(evicted_by))]


@dataclass(frozen=True)
class Plan:
    """A cacheable operation: its max age (seconds), the prefixes it depends on (sorted), and
    its label in the operation metrics (graph.metrics: its name, or `anonymous`)."""

    max_age: int
    prefixes: tuple[str, ...]
    operation: str = ANONYMOUS


class _Uncacheable(Exception):
    pass


def declared_hint(field: GraphQLField) -> CacheControl | None:
    definition = (field.extensions or {}).get("strawberry-definition")
    for directive in getattr(definition, "directives", None) or ():
        if isinstance(directive, CacheControl):
            return directive
    return None


def _reads_data(field: GraphQLField) -> bool:
    definition = (field.extensions or {}).get("strawberry-definition")
    return not isinstance(definition, StrawberryField) or definition.base_resolver is not None


class _Walk:
    def __init__(self, schema: GraphQLSchema, document: DocumentNode) -> None:
        self.schema = schema
        self.fragments = {
            d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
        }
        self.max_age: int | None = None
        self.prefixes: set[str] = set()

    def selections(
        self, selection_set: SelectionSetNode, parent: GraphQLNamedType, root: bool, seen: set[str]
    ) -> None:
        for selection in selection_set.selections:
            if isinstance(selection, FieldNode):
                self.field(selection, parent, root, seen)
            elif isinstance(selection, InlineFragmentNode):
                condition = selection.type_condition
                kind = self._type(condition.name.value) if condition else parent
                self.selections(selection.selection_set, kind, root, seen)
            elif isinstance(selection, FragmentSpreadNode):
                name = selection.name.value
                fragment = self.fragments.get(name)
                if fragment is None or name in seen:
                    raise _Uncacheable  # invalid (unknown or cyclic): validation will say
                kind = self._type(fragment.type_condition.name.value)
                self.selections(fragment.selection_set, kind, root, seen | {name})

    def field(self, node: FieldNode, parent: GraphQLNamedType, root: bool, seen: set[str]) -> None:
        name = node.name.value
        if name == "__typename":
            return
        fields = getattr(parent, "fields", None)
        field = fields.get(name) if fields is not None else None
        if field is None:
            raise _Uncacheable  # unknown, or introspection (__schema, __type)
        hint = declared_hint(field)
        if hint is not None:
            if hint.max_age <= 0:
                raise _Uncacheable
            self.max_age = hint.max_age if self.max_age is None else min(self.max_age, hint.max_age)
            self.prefixes.update(hint.evicted_by)
        elif root or _reads_data(field):
            raise _Uncacheable
        if node.selection_set is not None:
            self.selections(node.selection_set, get_named_type(field.type), False, seen)

    def _type(self, name: str) -> GraphQLNamedType:
        kind = self.schema.get_type(name)
        if kind is None:
            raise _Uncacheable
        return kind


def plan_of(
    schema: GraphQLSchema, document: DocumentNode, operation_name: str | None
) -> Plan | None:
    """The operation's plan, or None when it must not be cached (a mutation or subscription,
    a field that reads data without declaring `@cacheControl`, anything invalid)."""
    operation: OperationDefinitionNode | None = get_operation_ast(document, operation_name)
    if operation is None or operation.operation is not OperationType.QUERY:
        return None
    root = schema.query_type
    if root is None:
        return None
    walk = _Walk(schema, document)
    try:
        walk.selections(operation.selection_set, root, True, set())
    except _Uncacheable:
        return None
    if walk.max_age is None or not walk.prefixes:
        return None
    name = operation.name.value if operation.name is not None else ANONYMOUS
    return Plan(
        walk.max_age, tuple(sorted(walk.prefixes)), name if _NAME.fullmatch(name) else INVALID
    )


def hinted_fields(schema: GraphQLSchema) -> Iterable[tuple[str, str, CacheControl]]:
    """(type, field, hint) of every field declaring `@cacheControl` (README and tests)."""
    for type_name, kind in sorted(schema.type_map.items()):
        for field_name, field in (getattr(kind, "fields", None) or {}).items():
            hint = declared_hint(field)
            if hint is not None:
                yield type_name, field_name, hint


# Plans a process keeps, by document hash and operation name (a plan is a few dozen bytes).
MAX_PLANS = 4096
_UNKNOWN: Any = object()


class Plans:
    """Each document's plan, computed once per document hash and operation name."""

    def __init__(self, schema: GraphQLSchema, *, max_tokens: int, max_bytes: int) -> None:
        self.schema = schema
        self.max_tokens = max_tokens
        self.max_bytes = max_bytes
        self._plans: OrderedDict[tuple[str, str | None], Plan | None] = OrderedDict()
        self._lock = threading.Lock()
        # Answers depend on the schema too: a deploy that changes it starts afresh.
        self.schema_digest = hashlib.sha256(print_schema(schema).encode()).hexdigest()[:16]

    def known(self, document_hash: str, operation: str | None) -> tuple[bool, Plan | None]:
        """Whether the plan was computed, and the plan (None: not cacheable)."""
        plan = self._plans.get((document_hash, operation), _UNKNOWN)
        return (False, None) if plan is _UNKNOWN else (True, plan)

    def of(self, document_hash: str, query: str, operation: str | None) -> Plan | None:
        found, plan = self.known(document_hash, operation)
        if found:
            return plan
        if len(query) > self.max_bytes:
            return None  # refused by the view anyway; not parsed here
        try:
            plan = plan_of(self.schema, parse(query, max_tokens=self.max_tokens), operation)
        except GraphQLError:
            plan = None  # unparsable: the view answers the error, uncached
        with self._lock:
            self._plans[(document_hash, operation)] = plan
            while len(self._plans) > MAX_PLANS:
                self._plans.popitem(last=False)
        return plan
