"""The cost limit over HTTP: a costly request is refused with INVALID_INPUT naming its cost and
the limit, before any resolver runs (a mutation in it changes nothing), with sizes taken from
the request's variables; the README's documents and a full page pass under the default."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import replace
from pathlib import Path
from typing import Any

import httpx
from graphql import GraphQLObjectType, get_named_type, is_leaf_type, parse

from graph.cost import Costs
from graph.schema import schema
from tests.auth import key, running, with_auth
from tests.e2e.gql_support import gql, gql_data
from visapi.settings import Settings

README = Path(__file__).resolve().parents[2] / "README.md"
PAGE = "query Page($n: Int) { orders(first: $n) { edges { node { id orderId } } } }"  # 2 + 3n
CREATE = """mutation { createOrder(payload: {order: {id: "IL251101GB07", branch: "il", amount: 165,
  currency: "ILS"}, form: {country: "uk", client: {name: "Avi Cohen", email: "avi@example.com",
  phone: {code: "+972", number: "0541112233"}, whatsappAlertsEnabled: true},
  product: {country: "uk", docType: "eta", validity: "2_years", wait: 3}}}) { __typename } }"""


@asynccontextmanager
async def serving(settings: Settings, **values: Any) -> AsyncIterator[httpx.AsyncClient]:
    """The app, lifespan running; `client.key` holds admin."""
    async with running(replace(settings, **values)) as (container, client):
        client.key = await key(container, "admin")  # type: ignore[attr-defined]
        yield client


def refusal(response: httpx.Response) -> dict[str, Any]:
    body = response.json()
    assert body.get("data") is None, body
    assert len(body["errors"]) == 1, body
    error: dict[str, Any] = body["errors"][0]
    return error


async def test_a_costly_request_is_refused_naming_cost_and_limit(app_settings: Settings) -> None:
    async with serving(app_settings, max_query_cost=100) as client:
        admin = client.key  # type: ignore[attr-defined]
        cheap = await gql(client, PAGE, admin, n=10)  # 32
        costly = await gql(client, PAGE, admin, n=50)  # 152
        default = await gql(client, PAGE, admin)  # the default page of 20: 62
        strict = await client.post(
            "/graphql",
            json={"query": PAGE, "variables": {"n": 50}},
            headers={"X-API-Key": admin, "Accept": "application/graphql-response+json"},
        )
    assert cheap.json() == {"data": {"orders": {"edges": []}}}
    assert default.json() == {"data": {"orders": {"edges": []}}}
    assert costly.status_code == 200  # application/json: the spec's legacy rule
    error = refusal(costly)
    assert error["extensions"] == {"code": "INVALID_INPUT", "cost": 152, "maxCost": 100}
    assert "costs 152, above the limit of 100" in error["message"]
    assert strict.status_code == 400
    assert refusal(strict)["extensions"]["cost"] == 152


async def test_nothing_runs_in_a_refused_request(app_settings: Settings) -> None:
    # createOrder comes first: executed, it would store the order before the costly field.
    costly = CREATE.replace(
        "{ __typename } }", "{ __typename } replayFailedJobs(limit: 1000) { failedJobs { id } } }"
    )
    async with serving(app_settings, max_query_cost=300) as client:
        admin = client.key  # type: ignore[attr-defined]
        refused = await gql(client, costly, admin)
        # A resolver would have refused this cursor; the cost is refused before it runs.
        bad_cursor = await gql(
            client,
            '{ orders(first: 100, after: "x") { edges { node { id orderId amount } } } }',
            admin,
        )
        count = await gql_data(client, "{ orders { totalCount } }", admin)
        created = await gql_data(client, CREATE, admin)
    assert refusal(refused)["extensions"]["cost"] == 4 + 1000
    assert refusal(bad_cursor)["extensions"] == {
        "code": "INVALID_INPUT",
        "cost": 402,
        "maxCost": 300,
    }
    assert count == {"orders": {"totalCount": 0}}
    assert created == {"createOrder": {"__typename": "OrderAccepted"}}


def _everything(kind: GraphQLObjectType, depth: int) -> str:
    """Every field without required arguments, `depth` object levels down."""
    out = []
    for name, field in kind.fields.items():
        if any(a.default_value is None and "!" in str(a.type) for a in field.args.values()):
            continue
        named = get_named_type(field.type)
        if is_leaf_type(named):
            out.append(name)
        elif depth > 0 and isinstance(named, GraphQLObjectType):
            out.append(f"{name} {{ {_everything(named, depth - 1)} }}")
    return " ".join(out)


def readme_documents() -> list[str]:
    return re.findall(r"```graphql\n(.*?)```", README.read_text(), re.S)


async def test_the_readme_and_the_largest_page_pass_by_default(sqlite_url: str) -> None:
    order = schema._schema.get_type("Order")
    assert isinstance(order, GraphQLObjectType)
    node = _everything(order, 2)  # events, notifications, contact sync: ~270 values an order
    full = f"{{ orders(first: 100) {{ totalCount edges {{ cursor node {{ {node} }} }} }} }}"
    documents = readme_documents()
    assert len(documents) >= 2
    async with serving(with_auth(Settings(database_url=sqlite_url))) as client:
        admin = client.key  # type: ignore[attr-defined]
        for document in [*documents, full]:
            if document.lstrip().startswith("subscription"):
                # A stream, not an answer: its cost is planned as a query's would be.
                plan = Costs(max_page_size=100).plan(schema._schema, parse(document), None)
                assert plan is not None
                assert plan.cost({}) <= Settings().max_query_cost, document
                continue
            answer = (await gql(client, document, admin)).json()
            codes = [e["extensions"].get("cost") for e in answer.get("errors", [])]
            assert codes == [], (document, answer)
        # Two such pages are not a dashboard: refused.
        twice = full.replace("{ orders(", "{ a: orders(", 1)[:-1] + full[1:]
        assert "maxCost" in refusal(await gql(client, twice, admin))["extensions"]
