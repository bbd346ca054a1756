"""Introspection for admins only (the production profile): the schema is a map of every field
and permission, useful to an attacker and needed by no client at run time.

A validation rule cannot do it: validated documents are cached for every caller alike
(graph.documents), and the rule would need the caller. So the check runs at execution, like
the authentication gate, on documents that mention `__schema` or `__type` at all.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from graphql import (
    DocumentNode,
    ExecutableDefinitionNode,
    FieldNode,
    InlineFragmentNode,
    SelectionSetNode,
)
from strawberry.extensions import SchemaExtension

from domain.auth.permissions import Permission, Principal
from graph.errors import CodedError

INTROSPECTION_FIELDS = frozenset({"__schema", "__type"})
# A cheap first look at the text; `__typename` (always allowed) must not match.
_MENTIONS = re.compile(r"__(?:schema|type)\b")
MESSAGE = "Introspection (__schema, __type) is allowed only to callers holding `admin`."


def introspects(document: DocumentNode) -> bool:
    """Whether any selection, in any operation or fragment, is `__schema` or `__type`."""
    return any(
        _selects(definition.selection_set)
        for definition in document.definitions
        if isinstance(definition, ExecutableDefinitionNode)
    )


def _selects(selections: SelectionSetNode | None) -> bool:
    for selection in selections.selections if selections is not None else ():
        if isinstance(selection, FieldNode):
            if selection.name.value in INTROSPECTION_FIELDS or _selects(selection.selection_set):
                return True
        elif isinstance(selection, InlineFragmentNode) and _selects(selection.selection_set):
            return True
    return False  # fragment spreads: their definitions are walked on their own


class AdminIntrospection(SchemaExtension):
    """401 for anonymous callers, 403 for others without `admin` (graph.view maps the codes)."""

    def on_execute(self) -> Iterator[None]:
        ctx = self.execution_context
        principal: Principal | None = getattr(ctx.context, "principal", None)
        if (principal is None or not principal.may(Permission.ADMIN)) and self._asks(ctx):
            if principal is None:
                raise CodedError(MESSAGE, "UNAUTHENTICATED")
            raise CodedError(MESSAGE, "FORBIDDEN", permission=Permission.ADMIN.value)
        yield

    @staticmethod
    def _asks(ctx: Any) -> bool:
        document = ctx.graphql_document
        return bool(ctx.query and _MENTIONS.search(ctx.query)) and (
            document is not None and introspects(document)
        )
