"""graph.selections.selects: a field below the one resolved, found through aliases and fragments."""

from __future__ import annotations

import pytest
import strawberry
from strawberry.types import Info

from graph.selections import selects


@strawberry.type
class Event:
    type: str


@strawberry.type
class Node:
    id: str
    events: list[Event]


@strawberry.type
class Edge:
    node: Node


@strawberry.type
class Page:
    edges: list[Edge]


SEEN: list[bool] = []


@strawberry.type
class Query:
    @strawberry.field
    def page(self, info: Info) -> Page:
        SEEN.append(selects(info, "edges", "node", "events"))
        return Page(edges=[])


schema = strawberry.Schema(query=Query)


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("{ page { edges { node { id events { type } } } } }", True),
        ("{ page { edges { node { id history: events { type } } } } }", True),
        ("{ page { edges { node { ...N } } } } fragment N on Node { events { type } }", True),
        ("{ page { ...P } } fragment P on Page { edges { ...E } } "
         "fragment E on Edge { node { events { type } } }", True),
        ("{ page { edges { ... on Edge { node { ... { events { type } } } } } } }", True),
        ("{ page { edges { node { id } } } }", False),
        ("{ page { edges { node { ...N } } } } fragment N on Node { id }", False),
        ("{ a: page { edges { node { id } } } b: page { edges { node { id } } } }", False),
    ],
)  # fmt: skip
def test_selects(query: str, expected: bool) -> None:
    SEEN.clear()
    result = schema.execute_sync(query)
    assert result.errors is None
    assert SEEN
    assert all(seen is expected for seen in SEEN)
