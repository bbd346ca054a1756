"""The document cache: its cost estimate against measured memory, and its byte budget."""

from __future__ import annotations

import gc
import tracemalloc

import pytest
from graphql import parse

from graph.documents import Documents, document_cost

SHAPES = {
    "a long string": '{ __typename(x: "' + "a" * 30_000 + '") }',
    "dense tokens": "{ __typename(x: [" + ",".join(["1"] * 1990) + "]) }",
    "long names": "{ " + " ".join(f"f{n}_" + "x" * 200 for n in range(150)) + " }",
    "a dashboard": "query Orders($first: Int) { orders(first: $first) { edges { node { "
    + " ".join(f"field{n}" for n in range(40))
    + " } } pageInfo { hasNextPage endCursor } } }",
}


@pytest.mark.parametrize("shape", SHAPES)
def test_the_estimate_covers_what_a_parsed_document_holds(shape: str) -> None:
    query = SHAPES[shape]
    copy = "".join(query)  # the cache holds the request's own text too
    gc.collect()
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        document = parse(copy, max_tokens=2_000)
        gc.collect()
        held = tracemalloc.get_traced_memory()[0] - before + len(copy)
    finally:
        tracemalloc.stop()
    cost = document_cost(copy, document)
    # Never below what it holds (the budget is a bound), nor wastefully above it.
    assert held <= cost <= 3 * held, (held, cost)


def test_the_least_recently_used_documents_leave_past_the_budget() -> None:
    queries = [f"{{ a{n}: __typename }}" for n in range(4)]
    one = document_cost(queries[0], parse(queries[0]))
    documents = Documents(max_bytes=3 * one)
    for query in queries[:3]:
        documents.put(query, parse(query))
    assert documents.get(queries[0]) is not None  # now the most recently used
    documents.put(queries[3], parse(queries[3]))
    assert documents.get(queries[1]) is None
    assert [documents.get(q) is not None for q in queries] == [True, False, True, True]
    assert documents.bytes == 3 * one
    assert len(documents) == 3


def test_a_document_larger_than_the_whole_budget_is_not_kept() -> None:
    documents = Documents(max_bytes=100)
    documents.put("{ __typename }", parse("{ __typename }"))
    assert len(documents) == 0
    assert documents.bytes == 0
