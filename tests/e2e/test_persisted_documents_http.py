"""Persisted documents over HTTP on both backends: Apollo's APQ exchange as its client runs it
(POST and GET), hash mismatches, the per-caller cap, anonymous callers, Relay's ids, and each
VISAPI_DOCUMENTS mode for anonymous callers, ordinary keys and admins."""

from __future__ import annotations

import json
import subprocess
import uuid
from dataclasses import replace
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from app.documents.commands import PushDocuments
from app.documents.handlers import sha256_hex
from app.documents.manifest import read_manifest
from infrastructure.db.tables import persisted_documents
from tests.auth import key, running
from tests.e2e.gql_support import Credential, headers_of
from tests.processes import CLI, ROOT, base_env, servers
from visapi.bootstrap import Container
from visapi.settings import Settings

ME = "query Me { me { name } }"
TYPENAME = "query Probe { __typename }"
GRAPHQL_RESPONSE = "application/graphql-response+json"


def apq(digest: str) -> dict[str, Any]:
    return {"persistedQuery": {"version": 1, "sha256Hash": digest}}


async def post(
    client: httpx.AsyncClient, credential: Credential = None, **body: Any
) -> httpx.Response:
    return await client.post("/graphql", json=body, headers=headers_of(credential))


async def get(
    client: httpx.AsyncClient, credential: Credential = None, **params: Any
) -> httpx.Response:
    encoded = {k: json.dumps(v) if isinstance(v, dict) else v for k, v in params.items()}
    return await client.get("/graphql", params=encoded, headers=headers_of(credential))


def code_of(response: httpx.Response) -> str:
    [error] = response.json()["errors"]
    return str(error["extensions"]["code"])


async def rows(container: Container) -> dict[str, Any]:
    async with container.engine.connect() as conn:
        found = await conn.execute(select(persisted_documents))
        return {row.id: row for row in found}


async def test_apq_exchange_as_apollo_client_runs_it(app_settings: Settings) -> None:
    async with running(app_settings) as (container, client):
        issued = await key(container, "orders:read")
        digest = sha256_hex(ME)
        # 1. The hash alone: unknown. 200 (Apollo's clients look for the code), not cacheable.
        for accept in ("application/json", GRAPHQL_RESPONSE):
            missing = await client.post(
                "/graphql",
                json={"extensions": apq(digest)},
                headers={"X-API-Key": issued, "accept": accept},
            )
            assert missing.status_code == 200
            assert missing.json()["errors"] == [
                {
                    "message": "PersistedQueryNotFound",
                    "extensions": {"code": "PERSISTED_QUERY_NOT_FOUND"},
                }
            ]
            assert missing.headers["cache-control"] == "no-store"  # no cache keeps a miss
        # 2. The hash with the document: registered and run.
        registered = await post(client, issued, query=ME, extensions=apq(digest))
        assert registered.json() == {"data": {"me": {"name": "tests"}}}
        # 3. The hash alone, now known: by POST and by GET (cacheable reads).
        again = await post(client, issued, extensions=apq(digest))
        assert again.json() == {"data": {"me": {"name": "tests"}}}
        by_get = await get(client, issued, extensions=apq(digest), operationName="Me")
        assert by_get.status_code == 200
        assert by_get.json() == {"data": {"me": {"name": "tests"}}}
        [stored] = (await rows(container)).values()
        assert (stored.id, stored.sha256, stored.source, stored.operation_name) == (
            digest,
            digest,
            "apq",
            "Me",
        )
        assert stored.owner.startswith("api_key:")
        assert stored.body == ME


async def test_get_registers_too_and_refuses_a_mutation(app_settings: Settings) -> None:
    async with running(app_settings) as (container, client):
        issued = await key(container, "orders:read")
        registered = await get(client, issued, query=TYPENAME, extensions=apq(sha256_hex(TYPENAME)))
        assert registered.json() == {"data": {"__typename": "Query"}}
        flush = 'mutation Flush { flushCache(pattern: "order:*") }'
        admin = await key(container, "admin")
        assert (
            "errors"
            not in (
                await post(client, admin, query=flush, extensions=apq(sha256_hex(flush)))
            ).json()
        )
        refused = await get(client, admin, extensions=apq(sha256_hex(flush)))
        assert refused.status_code == 405
        assert refused.headers["allow"] == "POST"
        assert set(await rows(container)) == {sha256_hex(TYPENAME), sha256_hex(flush)}


async def test_a_mismatched_hash_or_version_stores_and_runs_nothing(app_settings: Settings) -> None:
    async with running(app_settings) as (container, client):
        issued = await key(container, "orders:read")
        wrong = sha256_hex("{ something else }")
        mismatch = await post(client, issued, query=ME, extensions=apq(wrong))
        assert mismatch.status_code == 200
        [error] = mismatch.json()["errors"]
        assert error["extensions"] == {"code": "INVALID_INPUT", "field": "extensions"}
        assert error["message"] == (
            "provided sha does not match query: extensions.persistedQuery.sha256Hash is"
            f" {wrong}, the sha256 of the query is {sha256_hex(ME)}"
        )
        assert mismatch.json()["data"] is None
        version = await post(
            client,
            issued,
            query=ME,
            extensions={"persistedQuery": {"version": 2, "sha256Hash": sha256_hex(ME)}},
        )
        assert "unsupported persisted query version 2" in version.json()["errors"][0]["message"]
        assert await rows(container) == {}
        assert (
            code_of(await post(client, issued, extensions=apq(wrong)))
            == "PERSISTED_QUERY_NOT_FOUND"
        )


async def test_the_cap_per_caller(app_settings: Settings) -> None:
    async with running(replace(app_settings, documents_max_per_caller=2)) as (container, client):
        first, second = await key(container, "orders:read"), await key(container, "orders:read")
        documents = [f"query N{n} {{ __typename }}" for n in range(3)]
        for document in documents[:2]:
            ok = await post(client, first, query=document, extensions=apq(sha256_hex(document)))
            assert ok.json() == {"data": {"__typename": "Query"}}
        over = await post(
            client, first, query=documents[2], extensions=apq(sha256_hex(documents[2]))
        )
        assert over.status_code == 403
        [error] = over.json()["errors"]
        assert error["extensions"] == {"code": "PERSISTED_QUERY_LIMIT", "limit": 2}
        assert "VISAPI_DOCUMENTS_MAX_PER_CALLER=2" in error["message"]
        assert len(await rows(container)) == 2
        # Known documents still run for it; another key has a cap of its own.
        again = await post(
            client, first, query=documents[0], extensions=apq(sha256_hex(documents[0]))
        )
        assert again.json() == {"data": {"__typename": "Query"}}
        other = await post(
            client, second, query=documents[2], extensions=apq(sha256_hex(documents[2]))
        )
        assert other.json() == {"data": {"__typename": "Query"}}
        assert len(await rows(container)) == 3


async def test_anonymous_apq_runs_but_is_not_stored(app_settings: Settings) -> None:
    async with running(app_settings) as (container, client):
        digest = sha256_hex(TYPENAME)
        ran = await post(client, query=TYPENAME, extensions=apq(digest))
        assert ran.json() == {"data": {"__typename": "Query"}}
        assert await rows(container) == {}
        assert code_of(await post(client, extensions=apq(digest))) == "PERSISTED_QUERY_NOT_FOUND"


RELAY_ID = "0f3a9c1e5b7d2f4a6c8e0b1d3f5a7c9e"  # Relay's ids are md5 digests


async def push(container: Container, manifest: Any) -> None:
    _, entries = read_manifest(manifest)
    await container.bus.handle(PushDocuments(entries=entries, actor="tests"))


async def test_relay_document_ids(app_settings: Settings) -> None:
    async with running(app_settings) as (container, client):
        await push(container, {RELAY_ID: ME})
        issued = await key(container, "orders:read")
        expected = {"data": {"me": {"name": "tests"}}}
        assert (await post(client, issued, doc_id=RELAY_ID)).json() == expected
        assert (await post(client, issued, documentId=RELAY_ID)).json() == expected
        assert (await get(client, issued, documentId=RELAY_ID)).json() == expected
        unknown = await post(client, issued, doc_id="f" * 32)
        assert code_of(unknown) == "PERSISTED_QUERY_NOT_FOUND"
        both = await post(client, issued, doc_id=RELAY_ID, query=ME)
        assert "send a documentId or a query, not both" in both.json()["errors"][0]["message"]


# For each mode, caller and kind of document: does it run, and is an APQ document stored?
FREE, PUSHED, NEW = "free-form", "registered", "apq"
RUNS = {
    "any": {FREE: "all", PUSHED: "all", NEW: "all"},
    "persisted": {FREE: "admin", PUSHED: "all", NEW: "credentials"},
    "trusted": {FREE: "admin", PUSHED: "all", NEW: "admin"},
}
STORES = {"any": "credentials", "persisted": "credentials", "trusted": "nobody"}


def allowed(who: str, caller: str) -> bool:
    return who == "all" or (who == "credentials" and caller != "anonymous") or who == caller


@pytest.mark.parametrize("mode", ["any", "persisted", "trusted"])
async def test_each_mode_for_each_caller(app_settings: Settings, mode: str) -> None:
    async with running(replace(app_settings, documents=mode)) as (container, client):
        await push(container, {RELAY_ID: TYPENAME})
        callers: dict[str, Credential] = {
            "anonymous": None,
            "key": await key(container, "orders:read"),
            "admin": await key(container, "admin"),
        }
        for caller, credential in callers.items():
            document = f"query New{caller.title()} {{ __typename }}"
            requests = {
                FREE: {"query": "{ __typename }"},
                PUSHED: {"extensions": {"documentId": RELAY_ID}},
                NEW: {"query": document, "extensions": apq(sha256_hex(document))},
            }
            for kind, body in requests.items():
                response = await post(client, credential, **body)
                where = f"{mode}, {caller}, {kind}: {response.text}"
                if allowed(RUNS[mode][kind], caller):
                    assert response.json() == {"data": {"__typename": "Query"}}, where
                else:
                    assert response.status_code == 403, where
                    [error] = response.json()["errors"]
                    assert error["extensions"] == {"code": "PERSISTED_QUERY_REQUIRED", "mode": mode}
                    assert f"VISAPI_DOCUMENTS={mode}" in error["message"]
            stored = sha256_hex(document) in await rows(container)
            assert stored == allowed(STORES[mode], caller), (mode, caller)


async def test_production_defaults_to_trusted(app_settings: Settings) -> None:
    async with running(replace(app_settings, env="production")) as (container, client):
        refused = await post(client, await key(container, "orders:read"), query="{ __typename }")
        assert code_of(refused) == "PERSISTED_QUERY_REQUIRED"
        assert refused.json()["errors"][0]["extensions"]["mode"] == "trusted"


async def test_a_registration_on_one_app_is_served_by_another(
    production_settings: Settings,
) -> None:
    """Two app instances on PostgreSQL and Redis (embedded mode is one process by design; the
    real processes below cover SQLite too)."""
    running_a, running_b = running(production_settings), running(production_settings)
    async with running_a as (a, client_a), running_b as (_, client_b):
        issued = await key(a, "orders:read")
        digest = sha256_hex(ME)
        missing = await post(client_b, issued, extensions=apq(digest))
        assert code_of(missing) == "PERSISTED_QUERY_NOT_FOUND"
        await post(client_a, issued, query=ME, extensions=apq(digest))
        served = await post(client_b, issued, extensions=apq(digest))
        assert served.json() == {"data": {"me": {"name": "tests"}}}


@pytest.mark.parametrize("backend", ["embedded", "production"])
def test_two_real_servers_share_registrations(
    backend: str, request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    if backend == "embedded":
        env = base_env(VISAPI_DATABASE_URL=request.getfixturevalue("sqlite_url"))
    else:
        env = base_env(
            VISAPI_DATABASE_URL=request.getfixturevalue("postgres_url"),
            VISAPI_REDIS_URL=request.getfixturevalue("redis_url"),
            VISAPI_REDIS_NAMESPACE=f"visapi-docs-{uuid.uuid4().hex[:8]}",
        )
    created = subprocess.run(
        [*CLI, "keys", "create", "--name", "app", "--scopes", "orders:read"],
        cwd=ROOT, env=env, capture_output=True, text=True, check=True,
    )  # fmt: skip
    headers = {"X-API-Key": created.stdout.strip()}
    digest = sha256_hex(ME)
    with servers(env, tmp_path, 2) as (a, b):
        hash_only = {"extensions": apq(digest)}
        missing = httpx.post(f"{b}/graphql", json=hash_only, headers=headers)
        assert code_of(missing) == "PERSISTED_QUERY_NOT_FOUND"
        registered = httpx.post(f"{a}/graphql", json={"query": ME, **hash_only}, headers=headers)
        assert registered.json() == {"data": {"me": {"name": "app"}}}
        for base in (b, a):
            params = {"extensions": json.dumps(apq(digest))}
            served = httpx.get(f"{base}/graphql", params=params, headers=headers)
            assert served.json() == {"data": {"me": {"name": "app"}}}
