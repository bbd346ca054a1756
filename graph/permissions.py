"""Field permissions: every root field and PII field declares `Requires(...)`; anonymous
callers selecting a protected root field get HTTP 401 before anything executes."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any, TypeVar, cast

import strawberry
from graphql import (
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLField,
    InlineFragmentNode,
    SelectionSetNode,
    get_operation_ast,
)
from strawberry.extensions import FieldExtension, SchemaExtension
from strawberry.types import Info
from strawberry.types.field import StrawberryField

from domain.auth.permissions import Permission, Principal
from graph.errors import CodedError

# `Requires(AUTHENTICATED)`: any valid credentials, no particular permission (e.g. `me`).
AUTHENTICATED = None
UNAUTHENTICATED_MESSAGE = (
    "Authentication required: send an API key (X-API-Key) or a bearer token (Authorization)."
)


class Requires(FieldExtension):
    """The permission a field needs, checked before its resolver runs.

    Lacking it, the field is null with a FORBIDDEN error naming the permission (a non-null
    field's null reaches its nearest nullable parent, as GraphQL prescribes).
    """

    def __init__(self, permission: Permission | None) -> None:
        self.permission = permission

    def apply(self, field: StrawberryField) -> None:
        # Shown in the SDL and GraphiQL, so clients can see what each field needs.
        need = f"Needs `{self.permission.value}`." if self.permission else "Needs credentials."
        if field.description and need in field.description:
            return  # the field is shared by every schema built (one per app): say it once
        field.description = f"{field.description} {need}" if field.description else need

    def check(self, info: Info[Any, Any]) -> None:
        principal: Principal | None = getattr(info.context, "principal", None)
        if principal is None:
            raise CodedError(UNAUTHENTICATED_MESSAGE, "UNAUTHENTICATED")
        if self.permission is not None and not principal.may(self.permission):
            raise CodedError(
                f"Missing permission {self.permission.value}.",
                "FORBIDDEN",
                permission=self.permission.value,
            )

    def resolve(self, next_: Any, source: Any, info: Info[Any, Any], **kwargs: Any) -> Any:
        self.check(info)
        return next_(source, info, **kwargs)

    async def resolve_async(
        self, next_: Any, source: Any, info: Info[Any, Any], **kwargs: Any
    ) -> Any:
        self.check(info)
        return await next_(source, info, **kwargs)


def requires(permission: Permission | None) -> list[FieldExtension]:
    """For `strawberry.field(extensions=requires(Permission.ORDERS_READ))`."""
    return [Requires(permission)]


F = TypeVar("F", bound=Callable[..., Any])


def protected_field(permission: Permission | None) -> Callable[[F], F]:
    """`@strawberry.field` on a resolver method, declaring the permission it needs."""

    def decorate(fn: F) -> F:
        return cast(F, strawberry.field(fn, extensions=requires(permission)))

    return decorate


def declared(field: GraphQLField) -> Requires | None:
    """The `Requires` a schema field declares, if any (read by the gate and the tests)."""
    definition = (field.extensions or {}).get("strawberry-definition")
    for extension in getattr(definition, "extensions", None) or ():
        if isinstance(extension, Requires):
            return extension
    return None


def _root_fields(
    selections: SelectionSetNode,
    fragments: dict[str, FragmentDefinitionNode],
    seen: set[str],
) -> Iterator[str]:
    for selection in selections.selections:
        if isinstance(selection, FieldNode):
            yield selection.name.value
        elif isinstance(selection, InlineFragmentNode):
            yield from _root_fields(selection.selection_set, fragments, seen)
        elif isinstance(selection, FragmentSpreadNode) and selection.name.value not in seen:
            seen.add(selection.name.value)
            fragment = fragments.get(selection.name.value)
            if fragment is not None:
                yield from _root_fields(fragment.selection_set, fragments, seen)


class AuthenticationGate(SchemaExtension):
    """HTTP 401 (graph.view maps the code) when an anonymous caller's operation selects any
    protected root field; `{ __typename }` and introspection stay open."""

    def on_execute(self) -> Iterator[None]:
        ctx = self.execution_context
        if getattr(ctx.context, "principal", None) is None and self._selects_protected(ctx):
            raise CodedError(UNAUTHENTICATED_MESSAGE, "UNAUTHENTICATED")
        yield

    @staticmethod
    def _selects_protected(ctx: Any) -> bool:
        document = ctx.graphql_document
        operation = get_operation_ast(document, ctx.operation_name) if document else None
        if operation is None:
            return False  # graphql-core reports the missing operation itself
        root = ctx.schema._schema.get_root_type(operation.operation)
        if root is None:
            return False
        fragments = {
            d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
        }
        names = _root_fields(operation.selection_set, fragments, set())
        return any(
            name in root.fields and declared(root.fields[name]) is not None for name in names
        )
