"""A leaner executor for plain leaf fields: an attribute read and a scalar coercion, nothing else.

graphql-core executes every field alike: it builds a resolve-info tuple, looks for arguments, calls
Strawberry's resolver wrapper (three frames down to a `getattr`), asks whether the result is
awaitable, then completes it through the non-null and leaf branches. For a list of orders that
is ~180 fields per page of 20, and the larger part of the page's CPU (PERFORMANCE.md: ~3.4 µs a
field). A field with no resolver, no field extension (so no permission), no arguments and a
scalar or enum type needs none of it: this executor reads the attribute and coerces it.

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

DEFINITION = "strawberry-definition"


class _Leaf(NamedTuple):
    attribute: str
    type: GraphQLScalarType | GraphQLEnumType
    non_null: bool


# Each schema field's plan, computed on first use and kept in the field's own `extensions`
# (GraphQLField is unhashable, and a side table would outlive the schemas tests build).
PLAN = "visapi-lean-plan"
_UNKNOWN = object()


def _plan(field: GraphQLField) -> _Leaf | None:
    definition = (field.extensions or {}).get(DEFINITION)
    if not isinstance(definition, StrawberryField) or not definition.is_basic_field:
        return None
    if field.args or definition.default_resolver is not getattr:
        return None
    kind: Any = field.type
    non_null = isinstance(kind, GraphQLNonNull)
    if non_null:
        kind = kind.of_type
    if not isinstance(kind, GraphQLScalarType | GraphQLEnumType):
        return None
    return _Leaf(definition.python_name, kind, non_null)


class LeanExecutionContext(StrawberryGraphQLCoreExecutionContext):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Resolver-wrapping middleware (extensions with a `resolve` hook) must see every field.
        manager = self.middleware_manager
        self._lean = manager is None or getattr(manager, "_middleware_resolvers", None) is None

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
            leaf = field.extensions.get(PLAN, _UNKNOWN)
            if leaf is _UNKNOWN:
                leaf = field.extensions[PLAN] = _plan(field)
            if leaf is not None:
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
