"""Field permissions, one idiom: `extensions=requires(...)` on the field, whether a root field, a
child that loads more (`Order.events`), a personal-data leaf (graph.personal lists them) or an
argument that reveals personal data (`sandboxMessages(phone:)`). Anonymous callers selecting a
protected root field get HTTP 401 before anything executes."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from types import MappingProxyType
from typing import Any

from graphql import (
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLField,
    InlineFragmentNode,
    SelectionSetNode,
    get_operation_ast,
)
from strawberry.extensions import FieldExtension
from strawberry.types import Info
from strawberry.types.field import StrawberryField

from domain.auth.permissions import Permission, Principal
from graph.arguments import given
from graph.errors import CodedError

# `requires(AUTHENTICATED)`: any valid credentials, no particular permission (e.g. `me`).
AUTHENTICATED = None
UNAUTHENTICATED_MESSAGE = (
    "Authentication required: send an API key (X-API-Key) or a bearer token (Authorization)."
)


class Requires(FieldExtension):
    """The permission a field needs, and those some of its arguments need when given, checked
    before its resolver runs.

    Lacking one, the field is null with a FORBIDDEN error naming the permission (a non-null
    field's null reaches its nearest nullable parent, as GraphQL prescribes). So every root
    field a permission can deny is nullable: the caller keeps the root fields it may see, with
    the error beside them (partial results). The checks come before the arguments are
    validated: a caller who may not ask learns nothing from the answer.
    """

    def __init__(
        self, permission: Permission | None, arguments: Mapping[str, Permission] | None = None
    ) -> None:
        self.permission = permission
        # Python names of arguments -> the permission giving that argument needs.
        self.arguments: Mapping[str, Permission] = MappingProxyType(dict(arguments or {}))

    def apply(self, field: StrawberryField) -> None:
        # Shown in the SDL and GraphiQL, so clients can see what each field needs.
        field.description = _needing(field.description, self.permission)
        unknown = set(self.arguments) - {a.python_name for a in field.arguments}
        if unknown:  # a misspelt name would leave its argument open
            raise TypeError(f"{field.python_name} has no argument {', '.join(sorted(unknown))}")
        for argument in field.arguments:
            if argument.python_name in self.arguments:
                argument.description = _needing(
                    argument.description, self.arguments[argument.python_name]
                )

    def check(self, info: Info[Any, Any], arguments: Mapping[str, Any]) -> None:
        principal: Principal | None = getattr(info.context, "principal", None)
        if principal is None:
            raise CodedError(UNAUTHENTICATED_MESSAGE, "UNAUTHENTICATED")
        _check(principal, self.permission)
        for name, permission in self.arguments.items():
            if given(arguments.get(name)):
                _check(principal, permission)

    def resolve(self, next_: Any, source: Any, info: Info[Any, Any], **kwargs: Any) -> Any:
        self.check(info, kwargs)
        return next_(source, info, **kwargs)

    async def resolve_async(
        self, next_: Any, source: Any, info: Info[Any, Any], **kwargs: Any
    ) -> Any:
        self.check(info, kwargs)
        return await next_(source, info, **kwargs)


def _needing(description: str | None, permission: Permission | None) -> str:
    need = f"Needs `{permission.value}`." if permission else "Needs credentials."
    if description and need in description:
        return description  # the field is shared by every schema built (one per app): say it once
    return f"{description} {need}" if description else need


def _check(principal: Principal, permission: Permission | None) -> None:
    if permission is not None and not principal.may(permission):
        raise CodedError(
            f"Missing permission {permission.value}.", "FORBIDDEN", permission=permission.value
        )


def requires(permission: Permission | None, **arguments: Permission) -> list[FieldExtension]:
    """For `strawberry.field(extensions=requires(Permission.ORDERS_READ))`; a keyword names an
    argument that needs a permission of its own when given (`phone=Permission.ORDERS_READ`)."""
    return [Requires(permission, arguments)]


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


def require_authentication(ctx: Any) -> None:
    """HTTP 401 (graph.view maps the code) when an anonymous caller's operation selects any
    protected root field; `{ __typename }` and introspection stay open. Run before execution
    by graph.checks.ExecutionChecks; `ctx` is Strawberry's execution context."""
    if getattr(ctx.context, "principal", None) is None and _selects_protected(ctx):
        raise CodedError(UNAUTHENTICATED_MESSAGE, "UNAUTHENTICATED")


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
    return any(name in root.fields and declared(root.fields[name]) is not None for name in names)
