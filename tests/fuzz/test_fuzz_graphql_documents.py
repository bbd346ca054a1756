"""Fuzz raw GraphQL over HTTP: random token streams, valid documents cut and spliced, deep nesting,
huge alias lists, unknown fields, bad variables and operation names, GET and POST, batched lists,
media types, with and without credentials."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import strategies as st

from tests.fuzz.strategies import AUTHENTICATED, NASTY, encode, json_values
from tests.fuzz.support import Target, fuzz

# Valid documents touching most of the schema; mutated below by cutting and splicing tokens.
DOCUMENTS = [
    "{ __typename }",
    "{ me { __typename } }",
    "query Q($n: Int) { orders(first: $n) { totalCount edges { cursor node { id orderId } } } }",
    'query { order(orderId: "IL251101GB07") { id amount events { type } } }',
    "{ orderStats(groupBy: BRANCH) { key count totalAmount } }",
    "{ apiKeys(first: 2) { edges { node { id name scopes } } } }",
    "{ workflows { totalCount edges { node { id name enabled } } } }",
    "{ workflowRuns(first: 3) { edges { node { id status } } } }",
    "{ failedJobs(first: 2) { totalCount } queueStats { queue depth } }",
    "{ logs(first: 2) { edges { node { message } } } logStats { total } }",
    "{ sandboxMessages(first: 2) { edges { node { id } } } }",
    "{ __schema { types { name fields { name } } } }",
    '{ __type(name: "Order") { name fields { name type { name } } } }',
    "mutation { markOrdersProcessed(ids: []) }",
    "mutation M($p: JSON!) { createOrder(payload: $p) { __typename } }",
    "fragment F on Order { id } query { orders { edges { node { ...F } } } }",
    "query A { __typename } query B { me { __typename } }",
    "subscription { __typename }",
]
TOKENS = [
    "{", "}", "(", ")", "[", "]", ":", "$", "!", "=", "@", "...", "|", "&", ",", "\n",
    "query", "mutation", "subscription", "fragment", "on", "true", "false", "null",
    "orders", "order", "createOrder", "edges", "node", "id", "first", "after", "filter",
    "__typename", "__schema", "__type", "@include(if: true)", "@skip(if: $x)", "@deprecated",
    "$n", "Int", "String!", "[ID!]!", "OrderFilter", '"x"', '"""block"""', "1", "-0", "1e999",
    "0x10", '"\\u0000"', '"\\ud800"', "#comment", "\ufeff", "nope", "status: ACTIVE",
]  # fmt: skip


def _tokens(doc: str) -> list[str]:
    return (
        doc.replace("{", " { ").replace("}", " } ").replace("(", " ( ").replace(")", " ) ").split()
    )


@st.composite
def spliced(draw: st.DrawFn) -> str:
    """A valid document with token runs deleted, duplicated or replaced."""
    tokens = _tokens(draw(st.sampled_from(DOCUMENTS)))
    for _ in range(draw(st.integers(1, 4))):
        i = draw(st.integers(0, len(tokens)))
        j = draw(st.integers(i, min(len(tokens), i + 4)))
        action = draw(st.sampled_from(["delete", "duplicate", "replace"]))
        if action == "delete":
            tokens[i:j] = []
        elif action == "duplicate":
            tokens[i:i] = tokens[i:j]
        else:
            tokens[i:j] = draw(st.lists(st.sampled_from(TOKENS), max_size=3))
    return " ".join(tokens)


def nested(depth: int) -> str:
    return "{ " + "me { " * depth + "__typename" + " }" * depth + " }"


documents = st.one_of(
    st.sampled_from(DOCUMENTS),
    spliced(),
    spliced(),
    st.lists(st.sampled_from(TOKENS), max_size=40).map(" ".join),
    # Beyond the depth, alias and token limits, but not by so much that each takes long to send.
    st.integers(1, 400).map(nested),
    st.integers(1, 3000).map(lambda n: "{" * n + "}" * n),
    st.integers(1, 1200).map(
        lambda n: "{ " + " ".join(f"a{i}: __typename" for i in range(n)) + " }"
    ),
    st.integers(1, 300).map(lambda n: "{ " + "orders { totalCount } " * n + "}"),
    st.text(max_size=25).map(lambda name: "{ " + name + " }"),
    st.sampled_from(NASTY),
)
variables = st.one_of(
    st.none(),
    json_values,
    st.dictionaries(st.sampled_from(["n", "p", "x", "f", ""]), json_values, max_size=3),
)
operation_names = st.one_of(
    st.none(), st.sampled_from(["Q", "A", "B", "M", "Nope", ""]), json_values
)


@st.composite
def requests(draw: st.DrawFn) -> dict[str, Any]:
    """One HTTP request: method, media type, body or query string, credentials."""
    body = {"query": draw(documents), "variables": draw(variables)}
    if draw(st.booleans()):
        body["operationName"] = draw(operation_names)
    if draw(st.integers(0, 9)) == 0:
        body = draw(st.sampled_from([{"query": draw(json_values)}, {}, {"variables": {}}]))
    method = draw(st.sampled_from(["POST"] * 3 + ["GET"]))
    if method == "GET" and len(json.dumps(body)) < 20_000:  # httpx refuses longer URLs
        params = {
            k: v if isinstance(v, str) else json.dumps(v) for k, v in body.items() if v is not None
        }
        # Lone surrogates cannot be sent in a URL at all (they are not UTF-8): left out.
        params = {
            k: v.encode("utf-16", "surrogatepass").decode("utf-16", "replace")
            for k, v in params.items()
        }
        return {"method": "GET", "params": params, "headers": {}}
    batched = draw(st.integers(0, 9)) == 0
    payload: Any = [body, *draw(st.lists(st.just(body), max_size=3))] if batched else body
    content = draw(
        st.one_of(
            st.just(None),
            st.just(encode(payload, True)),
            st.just(encode(payload, False)),
            st.binary(max_size=64),
        )
    )
    media = draw(
        st.sampled_from(
            [
                *[b"application/json"] * 6,
                b"application/graphql",
                b"application/graphql-response+json",
                b"multipart/form-data; boundary=zz",
                b"text/plain",
                b"",
            ]
        )
    )
    accept = draw(
        st.sampled_from([None, b"application/graphql-response+json", b"text/html", b"*/*;q=0"])
    )
    headers = {"Content-Type": media}
    if accept:
        headers["Accept"] = accept
    raw = encode(payload, True) if content is None else content
    return {"method": "POST", "content": raw, "headers": headers}


def test_documents(app: Target) -> None:
    def send(value: tuple[dict[str, Any], bool]) -> None:
        request, authenticated = value
        headers = {**app.headers(), **request["headers"]} if authenticated else request["headers"]
        if request["method"] == "GET":
            response = app.client.get("/graphql", params=request["params"], headers=headers)
        else:
            response = app.client.post("/graphql", content=request["content"], headers=headers)
        app.check(response)

    fuzz(app, "GraphQL documents", 0.18, st.tuples(requests(), AUTHENTICATED), send)
