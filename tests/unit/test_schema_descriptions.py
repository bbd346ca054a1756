"""Every element of the exported schema says what it is: each type, field, argument, input field,
enum value, scalar and directive of ours has a description that is more than the permission
note `requires(...)` appends ("Needs `orders:read`.") and more than its own name in words.

The walk goes over graphql-core's objects, which is what the SDL and introspection show, so a
description strawberry drops on the way would be caught too.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from enum import Enum

import strawberry
from graphql import (
    GraphQLArgument,
    GraphQLEnumType,
    GraphQLInputObjectType,
    GraphQLInterfaceType,
    GraphQLObjectType,
    GraphQLSchema,
    specified_directives,
)

from domain.auth.permissions import Permission
from graph.permissions import requires
from graph.schema import schema

# What graph.permissions appends to a field's description; alone it describes nothing.
PERMISSION_NOTE = re.compile(r"\s*Needs (`[^`]+`|credentials)\.")


def _words(text: str) -> list[str]:
    spaced = re.sub(r"([a-z0-9])([A-Z])", r"\1 \2", text)
    return re.findall(r"[a-z0-9]+", spaced.lower())


def _undescribed(name: str, description: str | None) -> bool:
    said = PERMISSION_NOTE.sub("", description or "").strip()
    return not said or _words(said) == _words(name.rsplit(".", 1)[-1].strip("():"))


def _arguments(where: str, arguments: dict[str, GraphQLArgument]) -> Iterator[tuple[str, str]]:
    for name, argument in arguments.items():
        yield f"{where}({name}:)", argument.description or ""


def _elements(gql_schema: GraphQLSchema) -> Iterator[tuple[str, str]]:
    """(a name pointing at the element, its description) for every element of ours."""
    for name, kind in gql_schema.type_map.items():
        if name.startswith("__"):
            continue  # introspection: graphql-core's, described by the spec
        yield name, kind.description or ""
        if isinstance(kind, GraphQLObjectType | GraphQLInterfaceType):
            for field_name, field in kind.fields.items():
                yield f"{name}.{field_name}", field.description or ""
                yield from _arguments(f"{name}.{field_name}", field.args)
        elif isinstance(kind, GraphQLInputObjectType):
            for field_name, input_field in kind.fields.items():
                yield f"{name}.{field_name}", input_field.description or ""
        elif isinstance(kind, GraphQLEnumType):
            for value_name, value in kind.values.items():
                yield f"{name}.{value_name}", value.description or ""
    for directive in gql_schema.directives:
        if directive not in specified_directives:
            yield f"@{directive.name}", directive.description or ""
            yield from _arguments(f"@{directive.name}", directive.args)


def undocumented(gql_schema: GraphQLSchema) -> list[str]:
    return [name for name, description in _elements(gql_schema) if _undescribed(name, description)]


def test_every_element_of_the_schema_is_described() -> None:
    missing = undocumented(schema._schema)
    assert not missing, f"{len(missing)} schema elements without a description:\n" + "\n".join(
        missing
    )


def test_the_walk_covers_every_kind_of_element() -> None:
    names = {name for name, _ in _elements(schema._schema)}
    for expected in (
        "Query",
        "Order",  # object type
        "Order.clientName",  # field
        "Query.orders(first:)",  # argument
        "OrderFilter.branch",  # input field
        "OrderStatus.ACTIVE",  # enum value
        "Decimal",  # scalar
        "CreateOrderResult",  # union
        "PageInfo.startCursor",
    ):
        assert expected in names
    assert len(names) > 400  # ~303 fields, 40 enum values, their types and arguments


@strawberry.enum
class Colour(Enum):
    RED = "red"
    BLUE = strawberry.enum_value("blue", description="The colour of the sky.")


@strawberry.type(description="A thing.")
class Thing:
    bare: str
    named: str = strawberry.field(description="Named.")
    guarded: str = strawberry.field(extensions=requires(Permission.ORDERS_READ))
    told: str = strawberry.field(
        description="Told what it is.", extensions=requires(Permission.ORDERS_READ)
    )
    colour: Colour = strawberry.field(description="Its colour.")


@strawberry.input
class Wanted:
    size: int


@strawberry.type(description="The root.")
class Query:
    @strawberry.field(description="Some things.")
    def things(self, wanted: Wanted | None = None, first: int = 10) -> list[Thing]:
        return []


def test_the_walk_names_each_undescribed_element() -> None:
    leaky = strawberry.Schema(query=Query)
    assert sorted(undocumented(leaky._schema)) == [
        "Colour",
        "Colour.RED",
        "Query.things(first:)",
        "Query.things(wanted:)",
        "Thing.bare",
        "Thing.guarded",  # the permission note alone
        "Thing.named",  # its name again
        "Wanted",
        "Wanted.size",
    ]
