"""How e2e tests speak GraphQL over HTTP: one POST, a credential as an API key or as headers."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import httpx

# An API key's secret, the headers to send (a bearer token, a spoofed proxy header), or None
# for the client's own headers alone.
Credential = str | Mapping[str, str] | None


def headers_of(credential: Credential) -> dict[str, str]:
    if credential is None:
        return {}
    if isinstance(credential, str):
        return {"X-API-Key": credential}
    return dict(credential)


async def gql(
    client: httpx.AsyncClient, query: str, credential: Credential = None, /, **variables: Any
) -> httpx.Response:
    """The raw answer, for tests that assert on status codes and errors. Positional-only, so
    a GraphQL variable may have any name (`query`, `credential` included)."""
    return await client.post(
        "/graphql",
        json={"query": query, "variables": variables},
        headers=headers_of(credential),
    )


async def gql_data(
    client: httpx.AsyncClient, query: str, credential: Credential = None, /, **variables: Any
) -> Any:
    """The `data` of an answer that must be a 200 without errors (failing with what came)."""
    response = await gql(client, query, credential, **variables)
    assert response.status_code == 200, response.text
    payload = response.json()
    assert "errors" not in payload, payload["errors"]
    return payload["data"]
