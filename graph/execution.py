"""A leaner executor for plain leaf fields: an attribute read and a scalar coercion, nothing else.

graphql-core executes every field alike: it builds a resolve-info tuple, looks for arguments, calls
Strawberry's resolver wrapper (three frames down to a `getattr`), asks whether the result is
awaitable, then completes it through the non-null and leaf branches. For a list of orders that
is ~180 fields per page of 20, and the larger part of the page's CPU (PERFORMANCE.md: ~3.4 µs a
field). A field with no resolver, no arguments, a scalar or enum type and no field extension but
its permission (`Requires`, e.g. the personal fields of graph.personal) needs none of it: this
executor checks the permission against the caller once per request, reads the attribute and
coerces it. A caller lacking the permission takes the full path, where `Requires` answers the
field null with its FORBIDDEN error.

An object whose selected fields are all such leaves (a node of a page: `id orderId amount ...`)
is completed in one loop over a plan made once per selection and request, instead of one
`execute_field` call per field.

Anything else, and anything unusual on the fast path (a missing attribute, null in a non-null
field, a value the scalar refuses), goes through graphql-core's own `execute_field`, so errors
keep their exact messages and paths. Schema extensions that wrap resolvers (a `resolve` hook)
switch the fast path off for the whole request.
"""

from __future__ import annotations

from typing import Any, NamedTuple

from graphql import (
    GraphQLEnumType,
    GraphQLField,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLScalarType,
)
from graphql.pyutils import Path, Undefined
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext
from strawberry.types.field import StrawberryField

from domain.auth.permissions import Permission
from graph.permissions import Requires

DEFINITION = "strawberry-definition"


class _Leaf(NamedTuple):
    attribute: str
    type: GraphQLScalarType | GraphQLEnumType
    non_null: bool
    requires: Requires | None  # the permission the field declares, if any


# Each schema field's plan, computed on first use and kept in the field's own `extensions`
# (GraphQLField is unhashable, and a side table would outlive the schemas tests build).
PLAN = "visapi-lean-plan"
_UNKNOWN = object()


def _plan(field: GraphQLField) -> _Leaf | None:
    definition = (field.extensions or {}).get(DEFINITION)
    if not isinstance(definition, StrawberryField) or definition.base_resolver is not None:
        return None
    requires: Requires | None = None
    match definition.extensions:
        case []:
            pass
        case [Requires() as only]:
            requires = only
        case _:
            return None  # any other extension must run: the full path
    if field.args or definition.default_resolver is not getattr:
        return None
    kind: Any = field.type
    non_null = isinstance(kind, GraphQLNonNull)
    if non_null:
        kind = kind.of_type
    if not isinstance(kind, GraphQLScalarType | GraphQLEnumType):
        return None
    return _Leaf(definition.python_name, kind, non_null, requires)


def _leaf_of(field: GraphQLField) -> _Leaf | None:
    leaf = field.extensions.get(PLAN, _UNKNOWN)
    if leaf is _UNKNOWN:
        leaf = field.extensions[PLAN] = _plan(field)
    return leaf  # type: ignore[no-any-return]


def _object_plan(
    parent_type: GraphQLObjectType, grouped_field_set: Any
) -> list[tuple[str, _Leaf]] | None:
    """(response name, leaf) for every selected field, or None when one is not a plain leaf."""
    plan = []
    for response_name, field_details_list in grouped_field_set.items():
        node = field_details_list[0].node
        field = parent_type.fields.get(node.name.value)  # None for __typename
        leaf = _leaf_of(field) if field is not None and not node.arguments else None
        if leaf is None:
            return None
        plan.append((response_name, leaf))
    return plan


class LeanExecutionContext(StrawberryGraphQLCoreExecutionContext):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Resolver-wrapping middleware (extensions with a `resolve` hook) must see every field.
        manager = self.middleware_manager
        self._lean = manager is None or getattr(manager, "_middleware_resolvers", None) is None
        # id(grouped field set) -> (the set, kept alive so its id is not reused; its plan)
        self._object_plans: dict[int, tuple[Any, list[tuple[str, _Leaf]] | None]] = {}
        # permission (None: any credentials) -> whether this request's caller holds it
        self._holds: dict[Permission | None, bool] = {}

    def _may(self, requires: Requires) -> bool:
        """What `Requires.check` decides, once per request and permission."""
        holds = self._holds.get(requires.permission)
        if holds is None:
            principal = getattr(self.context_value, "principal", None)
            holds = principal is not None and (
                requires.permission is None or principal.may(requires.permission)
            )
            self._holds[requires.permission] = holds
        return holds

    def execute_collected_subfields(
        self,
        parent_type: GraphQLObjectType,
        source_value: Any,
        path: Path,
        grouped_field_set: Any,
        new_defer_usages: Any,
        position_context: Any,
    ) -> Any:
        if self._lean and not new_defer_usages:
            known = self._object_plans.get(id(grouped_field_set))
            if known is None:
                known = (grouped_field_set, _object_plan(parent_type, grouped_field_set))
                self._object_plans[id(grouped_field_set)] = known
            plan = known[1]
            if plan is not None:
                completed = self._complete_leaves(plan, source_value)
                if completed is not None:
                    return completed
        return super().execute_collected_subfields(
            parent_type, source_value, path, grouped_field_set, new_defer_usages, position_context
        )

    def _complete_leaves(self, plan: list[tuple[str, _Leaf]], source: Any) -> dict[str, Any] | None:
        """The object's answer, or None for anything the full path must handle (and locate)."""
        out: dict[str, Any] = {}
        for response_name, leaf in plan:
            if leaf.requires is not None and not self._may(leaf.requires):
                return None  # refused: Requires says so, located, on the full path
            value = getattr(source, leaf.attribute, Undefined)
            if value is None:
                if leaf.non_null:
                    return None
                out[response_name] = None
                continue
            if value is Undefined:
                return None
            try:
                coerced = leaf.type.coerce_output_value(value)
            except Exception:  # refused: the full path raises it again, located
                return None
            if coerced is None or coerced is Undefined:
                return None
            out[response_name] = coerced
        return out

    def execute_field(
        self,
        parent_type: GraphQLObjectType,
        source: Any,
        field_details_list: Any,
        path: Path,
        position_context: Any,
    ) -> Any:
        node = field_details_list[0].node
        field = parent_type.fields.get(node.name.value)
        if field is not None and not node.arguments and self._lean:
            leaf = _leaf_of(field)
            if leaf is not None and (leaf.requires is None or self._may(leaf.requires)):
                value = getattr(source, leaf.attribute, Undefined)
                if value is not None and value is not Undefined:
                    try:
                        coerced = leaf.type.coerce_output_value(value)
                    except Exception:  # refused: the full path raises it again, located
                        coerced = None
                    if coerced is not None and coerced is not Undefined:
                        return coerced
                elif value is None and not leaf.non_null:
                    return None
        return super().execute_field(
            parent_type, source, field_details_list, path, position_context
        )
