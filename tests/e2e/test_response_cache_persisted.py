"""The response cache meets persisted documents, on both backends: a document sent by its id
alone (Apollo's hash, Relay's documentId, a manifest's md5 id) is answered from the cache and
counted under its own hash, and under VISAPI_DOCUMENTS=trusted a document sent as text is never
answered from the cache, even when its answer is there: the mode's rule runs every time."""

from __future__ import annotations

import hashlib
import json
from dataclasses import replace
from typing import Any

from app.documents.commands import PushDocuments
from app.documents.manifest import read_manifest
from tests.auth import key, running
from tests.e2e.test_response_cache_http import counts
from tests.scrape import create_order, order_body, scrape
from visapi.bootstrap import Container
from visapi.settings import Settings

ORDER = "query Order($id: ID!) { order(id: $id) { id orderId clientName } }"
ORDER_HASH = hashlib.sha256(ORDER.encode()).hexdigest()
RELAY_ID = hashlib.md5(ORDER.encode()).hexdigest()  # Relay's persistOutput ids are md5


def apq(digest: str) -> str:
    return json.dumps({"persistedQuery": {"version": 1, "sha256Hash": digest}})


async def push(container: Container, manifest: Any) -> None:
    _, entries = read_manifest(manifest)
    await container.bus.handle(PushDocuments(entries=entries, actor="tests"))


async def test_a_document_sent_by_hash_alone_is_a_hit_under_its_hash(
    app_settings: Settings,
) -> None:
    async with running(app_settings) as (container, client):
        reader = await key(container, "orders:read", "orders:write")
        headers = {"X-API-Key": reader}
        order_id = await create_order(client, headers, order_body())
        variables = json.dumps({"id": order_id})
        by_hash = {"extensions": apq(ORDER_HASH), "variables": variables}
        missing = await client.get("/graphql", params=by_hash, headers=headers)
        assert missing.json()["errors"][0]["extensions"]["code"] == "PERSISTED_QUERY_NOT_FOUND"
        registered = await client.get(
            "/graphql", params={**by_hash, "query": ORDER}, headers=headers
        )
        expected = registered.json()
        assert expected["data"]["order"]["id"] == order_id
        # The registering request runs (it stores the document), uncached: then a miss, a hit.
        assert counts(await scrape(client), ORDER_HASH) == (0, 0)
        for _ in range(2):
            again = await client.get("/graphql", params=by_hash, headers=headers)
            assert again.json() == expected
            assert again.headers["cache-control"].startswith("private, max-age=")
        assert counts(await scrape(client), ORDER_HASH) == (1, 1)
        # A write evicts it for requests by hash too.
        processed = await client.post(
            "/graphql",
            json={
                "query": "mutation($i: [ID!]!) { markOrdersProcessed(ids: $i) }",
                "variables": {"i": [order_id]},
            },
            headers=headers,
        )
        assert processed.json() == {"data": {"markOrdersProcessed": 1}}
        await client.get("/graphql", params=by_hash, headers=headers)
        assert counts(await scrape(client), ORDER_HASH) == (1, 2)


async def test_trusted_documents_are_cached_and_text_never_is(app_settings: Settings) -> None:
    async with running(replace(app_settings, documents="trusted")) as (container, client):
        await push(container, {RELAY_ID: ORDER})
        reader = await key(container, "orders:read", "orders:write")
        headers = {"X-API-Key": reader}
        admin = {"X-API-Key": await key(container, "admin")}  # text runs for admins only
        order_id = await create_order(client, admin, order_body())
        by_id = {"documentId": RELAY_ID, "variables": {"id": order_id}}
        first = await client.post("/graphql", json=by_id, headers=headers)
        assert first.json()["data"]["order"]["id"] == order_id
        # The first request read the document from the database: until then this process
        # could not plan it, so it was not looked up. The second is a miss, the third a hit.
        for _ in range(2):
            again = await client.post("/graphql", json=by_id, headers=headers)
            assert again.json() == first.json()
        # Counted under the document's sha256 (the cache's key), whatever id it was sent by.
        assert counts(await scrape(client), ORDER_HASH) == (1, 1)
        # The same text, free-form, with the same permissions: its answer is in the cache,
        # but trusted mode refuses text from a caller without admin.
        text = await client.post(
            "/graphql", json={"query": ORDER, "variables": {"id": order_id}}, headers=headers
        )
        assert text.status_code == 403
        assert text.json()["errors"][0]["extensions"]["code"] == "PERSISTED_QUERY_REQUIRED"
        assert counts(await scrape(client), ORDER_HASH) == (1, 1)


async def test_an_apq_document_is_not_served_from_the_cache_once_trusted_mode_refuses_it(
    production_settings: Settings,
) -> None:
    # Registered by APQ and cached on an app under `any`; another app on the same database and
    # Redis runs under `trusted` (a deploy changing VISAPI_DOCUMENTS): there an APQ document no
    # longer runs for a key, and its cached answer is not served either. (PostgreSQL and
    # Redis: embedded mode is one app per process by design.)
    trusted = replace(production_settings, documents="trusted")
    async with running(production_settings) as (container, client), running(trusted) as (_, other):
        reader = await key(container, "orders:read", "orders:write")
        headers = {"X-API-Key": reader}
        order_id = await create_order(client, headers, order_body())
        params = {"extensions": apq(ORDER_HASH), "variables": json.dumps({"id": order_id})}
        warm = await client.get("/graphql", params={**params, "query": ORDER}, headers=headers)
        assert warm.json()["data"]["order"]["id"] == order_id
        hit = await client.get("/graphql", params=params, headers=headers)
        assert hit.json() == warm.json()
        for _ in range(2):  # the second time, the other app holds the document in memory
            refused = await other.get("/graphql", params=params, headers=headers)
            assert refused.status_code == 403, refused.text
            assert refused.json()["errors"][0]["extensions"]["code"] == "PERSISTED_QUERY_REQUIRED"


async def test_text_beside_a_mismatched_hash_is_refused_not_served(app_settings: Settings) -> None:
    async with running(app_settings) as (container, client):
        reader = await key(container, "orders:read", "orders:write")
        headers = {"X-API-Key": reader}
        order_id = await create_order(client, headers, order_body())
        body = {"query": ORDER, "variables": {"id": order_id}}
        assert (await client.post("/graphql", json=body, headers=headers)).status_code == 200
        wrong = {**body, "extensions": {"persistedQuery": {"version": 1, "sha256Hash": "0" * 64}}}
        answer = await client.post("/graphql", json=wrong, headers=headers)
        assert "does not match" in answer.json()["errors"][0]["message"], answer.text
