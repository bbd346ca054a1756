"""X-Idempotency-Key on the order webhook over HTTP, embedded (SQLite) and production
(PostgreSQL): repeats get the first answer, concurrent repeats make one order, keys expire."""

from __future__ import annotations

import asyncio
import json
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from app.maintenance import RunMaintenance
from infrastructure.db.tables import idempotency_keys, orders, outbox, webhook_payloads
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
        query = select(func.count()).select_from(table).where(*where)
        return int(await conn.scalar(query) or 0)


async def archive(container: Container) -> list[tuple[str, str | None]]:
    query = select(webhook_payloads.c.status, webhook_payloads.c.idempotency_key).order_by(
        webhook_payloads.c.received_at
    )
    async with container.engine.connect() as conn:
        return [(row[0], row[1]) for row in (await conn.execute(query)).all()]


async def test_a_repeat_gets_the_first_answer(app_settings: Settings) -> None:
    async with running(app_settings) as (container, http):
        http.headers["X-API-Key"] = await key(container, *SCOPES)
        headers = {"X-Idempotency-Key": "order-IL251101GB07"}
        first = await http.post(URL, json=fixture("il-uk-eta.json"), headers=headers)
        again = await http.post(URL, json=fixture("il-uk-eta.json"), headers=headers)
        assert first.status_code == again.status_code == 201
        assert first.content == again.content
        assert first.json()["status"] == "created"
        assert "idempotent-replayed" not in first.headers
        assert again.headers["idempotent-replayed"] == "true"
        assert await count(container, orders) == 1
        assert await count(container, outbox, outbox.c.actor == "sync_contact") == 1
        key_used = "order-IL251101GB07"
        assert await archive(container) == [("accepted", key_used), ("duplicate", key_used)]


async def test_a_refusal_is_replayed_too(sqlite_url: str) -> None:
    body = fixture("il-uk-eta.json")
    body["order"]["amount"] = "a lot"
    async with running(with_auth(Settings(database_url=sqlite_url))) as (container, http):
        http.headers["X-API-Key"] = await key(container, *SCOPES)
        headers = {"X-Idempotency-Key": "k-1"}
        first = await http.post(URL, json=body, headers=headers)
        again = await http.post(URL, json=body, headers=headers)
        assert first.status_code == again.status_code == 422
        assert first.content == again.content
        assert errors_of(again)[0]["extensions"]["field"] == "order.amount"


async def test_the_same_key_with_another_body_is_422(app_settings: Settings) -> None:
    async with running(app_settings) as (container, http):
        http.headers["X-API-Key"] = await key(container, *SCOPES)
        headers = {"X-Idempotency-Key": "shared-key"}
        first = await http.post(URL, json=fixture("il-uk-eta.json"), headers=headers)
        assert first.status_code == 201
        other = fixture("se-india-uppercase-branch-extra-keys.json")
        refused = await http.post(URL, json=other, headers=headers)
        assert refused.status_code == 422, refused.text
        (error,) = errors_of(refused)
        assert error["extensions"]["field"] == "X-Idempotency-Key"
        assert "'shared-key'" in error["message"]
        assert await count(container, orders) == 1
        assert [s for s, _ in await archive(container)] == ["accepted", "rejected"]


@pytest.mark.parametrize("bad", ["", "x" * 256, "naïve", "two words"])
async def test_a_malformed_key_is_400(sqlite_url: str, bad: str) -> None:
    async with running(with_auth(Settings(database_url=sqlite_url))) as (container, http):
        http.headers["X-API-Key"] = await key(container, *SCOPES)
        content = json.dumps(fixture("il-uk-eta.json")).encode()
        response = await http.post(
            URL,
            content=content,
            headers={"X-Idempotency-Key": bad.encode()},
        )
        assert response.status_code == 400, response.text
        assert errors_of(response)[0]["extensions"]["field"] == "X-Idempotency-Key"
        assert await count(container, orders) == 0


async def test_concurrent_repeats_make_one_order_and_get_one_answer(
    app_settings: Settings,
) -> None:
    async with running(app_settings) as (container, http):
        http.headers["X-API-Key"] = await key(container, *SCOPES)
        body = fixture("il-uk-eta.json")
        responses = await asyncio.gather(
            *(http.post(URL, json=body, headers={"X-Idempotency-Key": "burst"}) for _ in range(20))
        )
        assert [r.status_code for r in responses] == [201] * 20
        assert len({r.content for r in responses}) == 1
        assert responses[0].json()["status"] == "created"
        assert sum("idempotent-replayed" in r.headers for r in responses) == 19
        assert await count(container, orders) == 1
        assert await count(container, outbox, outbox.c.actor == "sync_contact") == 1
        assert await count(container, idempotency_keys) == 1


async def test_an_expired_key_runs_afresh_and_is_purged(sqlite_url: str) -> None:
    # A TTL of a millisecond: the key has expired by the time its first answer is out.
    settings = with_auth(Settings(database_url=sqlite_url, idempotency_ttl_s=0.001))
    async with running(settings) as (container, http):
        http.headers["X-API-Key"] = await key(container, *SCOPES)
        headers = {"X-Idempotency-Key": "short-lived"}
        first = await http.post(URL, json=fixture("il-uk-eta.json"), headers=headers)
        other = fixture("se-india-uppercase-branch-extra-keys.json")
        second = await http.post(URL, json=other, headers=headers)
        assert (first.status_code, second.status_code) == (201, 201)
        assert first.json()["orderId"] != second.json()["orderId"]
        assert await count(container, orders) == 2

        # A live key of another scope outlives the purge; the expired one does not.
        at = datetime.now(UTC)
        live = container.idempotency
        assert await live.insert(
            "trigger:t", "k", "h", token=uuid.uuid4(), at=at, expires=at + timedelta(hours=1)
        )
        # The job the scheduler enqueues on each tick. Not its count: the embedded runner's
        # own first tick may have purged the expired key already (its TTL is a millisecond).
        await container.bus.handle(RunMaintenance("purge_idempotency_keys"))
        async with container.engine.connect() as conn:
            left = (await conn.execute(select(idempotency_keys.c.scope))).scalars().all()
        assert left == ["trigger:t"]
