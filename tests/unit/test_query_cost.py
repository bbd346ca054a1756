"""The cost of a document (graph.cost): list sizes times the fields under them, table-driven
against the real schema, with variables resolved per request from a plan made once."""

from __future__ import annotations

import gc
from typing import Any

import pytest
from graphql import GraphQLSchema, parse

from graph.cost import ASSUMED_LIST_SIZE, Costs, Planner
from graph.schema import build_schema

SCHEMA: GraphQLSchema = build_schema()._schema
PAGE = "edges { cursor node { id orderId } }"  # 1 + n x (cursor + node + 2 leaves)


def cost(query: str, variables: dict[str, Any] | None = None, *, max_page: int = 100) -> int:
    document = parse(query)
    plan = Planner(SCHEMA, document, max_page).plan(document, None)
    assert plan is not None
    return plan.cost(variables or {})


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("{ __typename }", 1),
        ('{ order(orderId: "X") { id orderId amount } }', 4),
        # A connection: orders, totalCount, edges, then 20 (the default page) x 4.
        (f"{{ orders {{ totalCount {PAGE} }} }}", 3 + 20 * 4),
        (f"{{ orders(first: 50) {{ {PAGE} }} }}", 2 + 50 * 4),
        (f"{{ orders(first: 0) {{ {PAGE} }} }}", 2),
        # Beyond the largest page the resolver refuses `first` itself: counted as the largest.
        (f"{{ orders(first: 5000) {{ {PAGE} }} }}", 2 + 100 * 4),
        # Nested lists multiply: an order's events are assumed ASSUMED_LIST_SIZE long.
        (
            "{ orders(first: 10) { edges { node { id events { type occurredAt } } } } }",
            2 + 10 * (1 + 1 + 1 + ASSUMED_LIST_SIZE * 2),
        ),
        # A list of leaves is one value.
        ("{ apiKeys(first: 10) { edges { node { scopes id } } } }", 2 + 10 * 3),
        # Aliases are separate fields; the same field twice is one (graphql-core merges it).
        (f"{{ a: orders(first: 10) {{ {PAGE} }} b: orders(first: 10) {{ {PAGE} }} }}", 2 * 42),
        (f"{{ orders(first: 10) {{ {PAGE} }} orders(first: 10) {{ {PAGE} }} }}", 42),
        # Fragments count like their fields, once per selection however often spread.
        (
            f"{{ orders(first: 10) {{ ...P ...P }} }} fragment P on OrderConnection {{ {PAGE} }}",
            42,
        ),
        (
            "{ orders(first: 10) { edges { node { ... on Order { id orderId } } } } }",
            2 + 10 * 4 - 10,  # no cursor
        ),
        # `limit` sizes a mutation's list (its schema default 100 when absent).
        ("mutation { replayFailedJobs { failedJobs { id } count } }", 1 + 1 + 100 * 1 + 1),
        ("mutation { replayFailedJobs(limit: 3) { failedJobs { id } } }", 1 + 1 + 3),
        # Introspection is bounded by the schema: free.
        ("{ __schema { types { name fields { name args { name } } } } }", 0),
    ],
)
def test_the_cost_of_a_document(query: str, expected: int) -> None:
    assert cost(query) == expected


VARIABLE_PAGE = f"query($n: Int) {{ orders(first: $n) {{ {PAGE} }} }}"


@pytest.mark.parametrize(
    ("query", "variables", "expected"),
    [
        (VARIABLE_PAGE, {"n": 50}, 2 + 50 * 4),
        (VARIABLE_PAGE, {}, 2 + 20 * 4),  # absent: the default page
        (VARIABLE_PAGE, {"n": None}, 2 + 20 * 4),  # null: the default page too
        (VARIABLE_PAGE, {"n": 10_000}, 2 + 100 * 4),
        (VARIABLE_PAGE, {"n": -5}, 2),
        (VARIABLE_PAGE, {"n": "many"}, 2 + 20 * 4),  # graphql-core refuses it, naming $n
        (VARIABLE_PAGE, {"n": True}, 2 + 20 * 4),
        # The variable's own default when absent, the argument's when null.
        (f"query($n: Int = 7) {{ orders(first: $n) {{ {PAGE} }} }}", {}, 2 + 7 * 4),
        (f"query($n: Int = 7) {{ orders(first: $n) {{ {PAGE} }} }}", {"n": None}, 2 + 20 * 4),
        # Nested sizes from variables multiply per request.
        (
            "query($n: Int, $m: Int!) { orders(first: $n) { edges { node { id } } }"
            " logs(first: $m) { edges { node { id } } } }",
            {"n": 3, "m": 5},
            (2 + 3 * 2) + (2 + 5 * 2),  # node and id per item
        ),
        (
            "mutation($l: Int!) { replayFailedJobs(limit: $l) { failedJobs { id } } }",
            {"l": 1000},
            2 + 1000,
        ),
    ],
)
def test_variables_are_resolved_per_request(
    query: str, variables: dict[str, Any], expected: int
) -> None:
    assert cost(query, variables) == expected


def test_the_largest_page_follows_the_setting() -> None:
    assert cost(f"{{ orders(first: 100) {{ {PAGE} }} }}", max_page=30) == 2 + 30 * 4
    assert cost(VARIABLE_PAGE, {"n": 100}, max_page=30) == 2 + 30 * 4
    assert cost(f"{{ orders {{ {PAGE} }} }}", max_page=5) == 2 + 5 * 4  # default within it


def test_the_plan_keeps_only_the_variable_lists() -> None:
    document = parse(
        "query($n: Int) { a: orders(first: 10) { totalCount edges { node { id events { type } } } }"
        " b: orders(first: $n) { edges { node { id } } } }"
    )
    plan = Planner(SCHEMA, document, 100).plan(document, None)
    assert plan is not None
    # Everything of `a` and the fixed fields of `b` folded into one number; one term for $n.
    assert plan.fixed == (3 + 10 * (1 + 1 + 1 + ASSUMED_LIST_SIZE)) + 2
    assert [size.variable for size, _ in plan.terms] == ["n"]


def test_the_operation_is_chosen_by_name() -> None:
    document = parse(
        f"query Small {{ __typename }} query Big {{ orders(first: 100) {{ {PAGE} }} }}"
    )
    planner = Planner(SCHEMA, document, 100)
    assert planner.plan(document, "Small").cost({}) == 1  # type: ignore[union-attr]
    assert planner.plan(document, "Big").cost({}) == 402  # type: ignore[union-attr]
    assert planner.plan(document, None) is None  # ambiguous: graphql-core says so
    assert planner.plan(document, "Nope") is None


def test_plans_are_made_once_per_document_and_leave_with_it() -> None:
    costs = Costs(max_page_size=100)
    document = parse(VARIABLE_PAGE)
    first = costs.plan(SCHEMA, document, None)
    assert costs.plan(SCHEMA, document, None) is first  # the cached document's plan
    assert len(costs) == 1
    del document
    gc.collect()
    assert len(costs) == 0
