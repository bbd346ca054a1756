"""Reading the two manifest formats: Apollo's persisted-query manifest and Relay's map."""

from __future__ import annotations

from typing import Any

import pytest

from app.documents.manifest import ManifestEntry, read_manifest
from app.errors import InvalidInput

Q = "query Order($id: ID!) { order(id: $id) { id } }"
APOLLO = {
    "format": "apollo-persisted-query-manifest",
    "version": 1,
    "operations": [
        {"id": "a" * 64, "name": "Order", "type": "query", "body": Q},
        {"id": "b" * 64, "name": None, "type": "query", "body": "{ me { name } }"},
    ],
}


def test_apollo_manifest() -> None:
    assert read_manifest(APOLLO) == (
        "apollo",
        (ManifestEntry("a" * 64, Q, "Order"), ManifestEntry("b" * 64, "{ me { name } }")),
    )


def test_relay_map_keeps_its_md5_ids() -> None:
    relay = {"3b8b1d7cb2a3f1e9d0c4b5a6f7e8d9c0": Q}
    assert read_manifest(relay) == (
        "relay",
        (ManifestEntry("3b8b1d7cb2a3f1e9d0c4b5a6f7e8d9c0", Q),),
    )


def test_a_repeated_id_with_the_same_text_counts_once() -> None:
    twice = {**APOLLO, "operations": [APOLLO["operations"][0]] * 2}
    assert len(read_manifest(twice)[1]) == 1


def _apollo(**operation: Any) -> dict[str, Any]:
    return {**APOLLO, "operations": [{"id": "x1", "body": Q, **operation}]}


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ([], "a manifest is a JSON object"),
        ({}, "the manifest has no documents"),
        ({"format": "graphql-codegen"}, "unknown manifest format 'graphql-codegen'"),
        ({**APOLLO, "version": 2}, "unsupported apollo-persisted-query-manifest version 2"),
        ({**APOLLO, "operations": {}}, "`operations` must be a list"),
        ({**APOLLO, "operations": ["{ me { name } }"]}, "operations[0] must be an object"),
        (_apollo(id=""), "operations[0]: the id must be 1-128 printable characters"),
        (_apollo(id="has space"), "operations[0]: the id must be"),
        (_apollo(id=7), "operations[0]: the id must be"),
        (_apollo(body="  "), "operations[0] (id x1): the body must be a non-empty"),
        (_apollo(body=None), "operations[0] (id x1): the body must be"),
        (_apollo(name=3), "operations[0].name must be a string"),
        ({"abc": 1}, "'abc' (id abc): the body must be a non-empty GraphQL document"),
        ({"x" * 129: Q}, "the id must be 1-128"),
        (
            {
                **APOLLO,
                "operations": [{"id": "d", "body": Q}, {"id": "d", "body": "{ me { id } }"}],
            },
            "id d is given twice, with different documents",
        ),
    ],
)
def test_bad_manifests_name_the_entry(data: Any, message: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        read_manifest(data)
    assert message in refused.value.message
