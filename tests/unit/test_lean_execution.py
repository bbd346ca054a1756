"""The lean executor answers exactly what graphql-core's own executor answers, errors included."""

from __future__ import annotations

from decimal import Decimal
from enum import Enum
from typing import Any

import pytest
import strawberry
from strawberry.extensions import FieldExtension, SchemaExtension
from strawberry.schema.config import StrawberryConfig
from strawberry.types import Info

from graph.execution import LeanExecutionContext
from graph.scalars import SCALAR_MAP


@strawberry.enum
class Colour(Enum):
    RED = "red"
    BLUE = "blue"


class Shout(FieldExtension):
    """A field extension: such a field must keep its resolver chain (permissions live there)."""

    def resolve(self, next_: Any, source: Any, info: Info[Any, Any], **kwargs: Any) -> Any:
        return str(next_(source, info, **kwargs)).upper()


@strawberry.type
class Item:
    name: str
    note: str | None
    colour: Colour
    amount: Decimal
    count: int
    secret: str = strawberry.field(extensions=[Shout()])
    broken: str  # None at run time: a non-null violation
    bad_int: int  # a string at run time: the scalar refuses it


def _items() -> list[Item]:
    return [
        Item(
            name=f"item {i}",
            note=None if i % 2 else "odd",
            colour=Colour.RED if i % 2 else Colour.BLUE,
            amount=Decimal("12.50") + i,
            count=i,
            secret="psst",
            broken=None,  # type: ignore[arg-type]
            bad_int="nope",  # type: ignore[arg-type]
        )
        for i in range(3)
    ]


@strawberry.type
class Query:
    @strawberry.field
    def items(self) -> list[Item]:
        return _items()

    @strawberry.field
    async def later(self) -> list[Item]:
        return _items()


def _schema(lean: bool, extensions: list[Any] | None = None) -> strawberry.Schema:
    kwargs: dict[str, Any] = {"execution_context_class": LeanExecutionContext} if lean else {}
    return strawberry.Schema(
        query=Query,
        config=StrawberryConfig(scalar_map=SCALAR_MAP),
        extensions=extensions or [],
        **kwargs,
    )


QUERIES = [
    "{ items { name note colour amount count __typename } }",
    "{ later { name note colour amount count } }",
    "{ items { secret name } }",
    "{ items { name broken } }",
    "{ later { count badInt } }",
    "{ items { alias: name other: count } }",
    "{ items { ...F name @skip(if: true) note @include(if: true) } } fragment F on Item { count }",
    "{ items { name colour } later { amount bad: count } }",
    "{ items { note name } }",
]


@pytest.mark.parametrize("query", QUERIES)
async def test_the_same_answer_as_graphql_core(query: str) -> None:
    plain = await _schema(lean=False).execute(query)
    lean = await _schema(lean=True).execute(query)
    assert lean.data == plain.data
    assert [e.formatted for e in lean.errors or []] == [e.formatted for e in plain.errors or []]


async def test_field_extensions_still_run() -> None:
    result = await _schema(lean=True).execute("{ items { secret } }")
    assert result.data == {"items": [{"secret": "PSST"}] * 3}


async def test_a_null_in_a_non_null_leaf_is_the_usual_located_error() -> None:
    result = await _schema(lean=True).execute("{ items { name broken } }")
    assert result.data is None
    assert result.errors
    assert result.errors[0].path == ["items", 0, "broken"]
    assert "Cannot return null for non-nullable field Item.broken" in result.errors[0].message


class Upper(SchemaExtension):
    """A resolver-wrapping schema extension: it must see every field, leaves included."""

    def resolve(self, next_: Any, root: Any, info: Info[Any, Any], *args: Any, **kw: Any) -> Any:
        value = next_(root, info, *args, **kw)
        return value.upper() if isinstance(value, str) else value


async def test_resolver_wrapping_extensions_see_every_leaf() -> None:
    result = await _schema(lean=True, extensions=[Upper]).execute("{ items { name } }")
    assert result.data == {"items": [{"name": f"ITEM {i}"} for i in range(3)]}


class Counting(LeanExecutionContext):
    calls: list[str] = []

    def execute_field(self, parent_type: Any, source: Any, fields: Any, *args: Any) -> Any:
        Counting.calls.append(fields[0].node.name.value)
        return super().execute_field(parent_type, source, fields, *args)


async def test_an_object_of_plain_leaves_is_completed_without_a_call_per_field() -> None:
    schema = strawberry.Schema(
        query=Query,
        config=StrawberryConfig(scalar_map=SCALAR_MAP),
        execution_context_class=Counting,
    )
    Counting.calls = []
    result = await schema.execute("{ items { name note colour amount count } }")
    assert result.errors is None
    assert Counting.calls == ["items"]  # the three items' 15 leaves in one loop each
    Counting.calls = []
    await schema.execute("{ items { name secret } }")  # a field extension: field by field
    assert Counting.calls == ["items"] + ["name", "secret"] * 3
