"""The storefront's order webhook over HTTP, lifespan running, embedded (SQLite, memory) and
production (PostgreSQL, Redis): answers, permissions, the archive, and the outbox job."""

from __future__ import annotations

import json
import uuid
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from infrastructure.db.tables import orders, outbox, webhook_payloads
from tests.auth import errors_of, key, running, with_auth
from visapi.bootstrap import Container
from visapi.settings import Settings

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "vizi-orders"
URL = "/api/v1/webhooks/vizi/orders"
SCOPES = ("webhook:vizi", "logs:write")


def fixture(name: str) -> Any:
    return json.loads((FIXTURES / name).read_text())


async def count(container: Container, table: Any, *where: Any) -> int:
    async with container.engine.connect() as conn:
        return int(await conn.scalar(select(func.count()).select_from(table).where(*where)) or 0)


async def archived(container: Container) -> list[tuple[str, str | None, str | None]]:
    """(status, external order id, error) of each archived body, oldest first."""
    query = select(
        webhook_payloads.c.status, webhook_payloads.c.external_order_id, webhook_payloads.c.error
    ).order_by(webhook_payloads.c.received_at)
    async with container.engine.connect() as conn:
        return [tuple(row) for row in (await conn.execute(query)).all()]  # type: ignore[misc]


async def test_created_then_duplicate_without_a_second_job(app_settings: Settings) -> None:
    async with running(app_settings) as (container, http):
        http.headers["X-API-Key"] = await key(container, *SCOPES)
        first = await http.post(URL, json=fixture("il-uk-eta.json"))
        assert first.status_code == 201, first.text
        body = first.json()
        assert body["status"] == "created"
        assert body["orderId"] == "IL251101GB07"
        assert await count(container, orders, orders.c.id == uuid.UUID(body["id"])) == 1
        assert await count(container, outbox, outbox.c.actor == "sync_contact") == 1

        again = await http.post(URL, json=fixture("il-uk-eta.json"))
        assert again.status_code == 200, again.text
        assert again.json() == {**body, "status": "duplicate"}
        assert await count(container, orders) == 1
        assert await count(container, outbox, outbox.c.actor == "sync_contact") == 1
        assert [s for s, _, _ in await archived(container)] == ["accepted", "duplicate"]


async def test_a_test_order_is_skipped_and_archived(app_settings: Settings) -> None:
    async with running(app_settings) as (container, http):
        http.headers["X-API-Key"] = await key(container, *SCOPES)
        response = await http.post(URL, json=fixture("il-test-order.json"))
        assert response.status_code == 200, response.text
        assert response.json() == {"status": "skipped", "id": None, "orderId": "IL251103GB99-TEST"}
        assert await count(container, orders) == 0
        # No job of its own (the embedded scheduler's maintenance rows aside).
        assert await count(container, outbox, outbox.c.actor != "run_maintenance") == 0
        assert await archived(container) == [("skipped", "IL251103GB99-TEST", None)]


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"order": {"amount": "twelve"}}, "order.amount"),
        ({"order": {"id": None}}, "order.id"),
        ({"form": None}, "form"),
    ],
)
async def test_an_unusable_body_names_its_field(
    sqlite_url: str, change: dict[str, Any], field: str
) -> None:
    body = fixture("se-india-uppercase-branch-extra-keys.json")
    for part, values in change.items():
        body[part] = None if values is None else {**body[part], **values}
    async with running(_settings(sqlite_url)) as (container, http):
        http.headers["X-API-Key"] = await key(container, *SCOPES)
        response = await http.post(URL, json=body)
        assert response.status_code == 422, response.text
        (error,) = errors_of(response)
        assert error["extensions"]["code"] == "INVALID_INPUT"
        assert error["extensions"]["field"] == field
        assert field in error["message"]
        assert await count(container, orders) == 0
        assert [s for s, _, _ in await archived(container)] == ["rejected"]


@pytest.mark.parametrize(
    ("content", "says"),
    [(b"{not json", "not valid JSON"), (b"[1, 2]", "JSON object"), (b"", "JSON")],
)
async def test_a_body_that_is_no_json_object_is_400_and_archived(
    sqlite_url: str, content: bytes, says: str
) -> None:
    async with running(_settings(sqlite_url)) as (container, http):
        http.headers["X-API-Key"] = await key(container, *SCOPES)
        response = await http.post(URL, content=content)
        assert response.status_code == 400, response.text
        (error,) = errors_of(response)
        assert says in error["message"]
        assert [s for s, _, _ in await archived(container)] == ["rejected"]


async def test_a_body_past_the_cap_is_413(sqlite_url: str) -> None:
    settings = replace(_settings(sqlite_url), max_body_bytes=300)
    async with running(settings) as (container, http):
        http.headers["X-API-Key"] = await key(container, *SCOPES)
        response = await http.post(URL, json=fixture("il-uk-eta.json"))
        assert response.status_code == 413
        assert errors_of(response)[0]["extensions"]["code"] == "PAYLOAD_TOO_LARGE"
        assert await count(container, orders) == 0


@pytest.mark.parametrize(
    ("scopes", "status", "missing"),
    [
        (("webhook:vizi",), 403, "logs:write"),
        (("logs:write",), 403, "webhook:vizi"),
        (("orders:write", "orders:read"), 403, "webhook:vizi"),
        ((), 401, None),
    ],
)
async def test_the_caller_needs_both_permissions(
    sqlite_url: str, scopes: tuple[str, ...], status: int, missing: str | None
) -> None:
    async with running(_settings(sqlite_url)) as (container, http):
        if scopes:
            http.headers["X-API-Key"] = await key(container, *scopes)
        response = await http.post(URL, json=fixture("il-uk-eta.json"))
        assert response.status_code == status, response.text
        if missing:
            assert errors_of(response)[0]["extensions"]["permission"] == missing
        assert await count(container, orders) == 0
        assert await count(container, webhook_payloads) == 0


async def test_an_admin_key_may_post(sqlite_url: str) -> None:
    async with running(_settings(sqlite_url)) as (container, http):
        http.headers["X-API-Key"] = await key(container, "admin")
        response = await http.post(URL, json=fixture("il-uk-eta.json"))
        assert response.status_code == 201, response.text


def _settings(sqlite_url: str) -> Settings:
    return with_auth(Settings(database_url=sqlite_url))


async def test_nul_characters_are_stored_replaced_never_a_500(app_settings: Settings) -> None:
    """PostgreSQL refuses U+0000 in text and JSONB: the body is stored with U+FFFD instead,
    through the webhook and through GraphQL, and a non-JSON body with NUL bytes is archived."""
    async with running(app_settings) as (container, http):
        http.headers["X-API-Key"] = await key(container, *SCOPES, "orders:write")
        body = fixture("il-uk-eta.json")
        body["form"]["client"]["name"] = "Avi\x00Cohen"
        body["form"]["extra\x00key"] = ["a\x00b"]
        answer = await http.post(URL, json=body)
        assert answer.status_code == 201, answer.text
        other = fixture("il-uk-eta.json")
        other["order"]["id"] = "IL251101NUL2"
        other["form"]["client"]["name"] = "Dana\x00Levi"
        query = "mutation($p: JSON!) { createOrder(payload: $p) { __typename } }"
        graph = await http.post("/graphql", json={"query": query, "variables": {"p": other}})
        assert graph.json()["data"]["createOrder"]["__typename"] == "OrderAccepted"
        raw = await http.post(
            URL, content=b"not json \x00 at all", headers={"Content-Type": "application/json"}
        )
        assert raw.status_code == 400
        async with container.engine.connect() as conn:
            names = set((await conn.execute(select(orders.c.client_name))).scalars())
            bodies = (await conn.execute(select(webhook_payloads.c.body))).scalars().all()
        assert names == {"Avi\ufffdCohen", "Dana\ufffdLevi"}
        assert any(
            b.get("form", {}).get("extra\ufffdkey") == ["a\ufffdb"]
            for b in bodies
            if isinstance(b, dict)
        )
        assert len(bodies) == 3  # the refused body too
