"""Support of the end-to-end pipeline tests: production settings with small Dramatiq timings,
real `visapi worker` processes, the API in-process, and reads of what the run left behind
(rows, Redis queues, the fake vendor).

The API runs in the test's process (`tests.auth.running`): its relay publishes to the same
Redis namespace the worker processes consume, so an order posted to the webhook travels
through real processes exactly as in production.
"""

from __future__ import annotations

import asyncio
import copy
import json
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import httpx
import redis
from sqlalchemy import select

from infrastructure.db.tables import contact_syncs, failed_jobs, notifications, orders, outbox
from infrastructure.queue.throughput import BUCKET_TTL_S, bucket_of
from rest.whatsapp import signature_of
from tests.auth import key, running, with_auth
from tests.e2e.pipeline_processes import Processes, processes, settings_env
from tests.processes import ROOT
from tests.vendor import FakeVendor
from tests.waiting import eventually
from visapi.bootstrap import Container
from visapi.settings import Settings, load_settings

T = TypeVar("T")
FIXTURES = ROOT / "tests" / "fixtures" / "vizi-orders"
WEBHOOK = "/api/v1/webhooks/vizi/orders"
WHATSAPP = "/api/v1/webhooks/whatsapp"
APP_SECRET = "meta-app-secret-for-the-e2e-run"
QUEUES = ("critical", "default", "bulk")
# Generous: the assertions never depend on it, a loaded machine only waits longer.
DEADLINE_S = 45.0
# Small Dramatiq timings. The stale window must exceed the job time limit (settings check);
# the heartbeat timeout leaves a live worker (it polls every queue at least once a second)
# room to be late without being taken for dead; every broker command runs the maintenance
# that requeues a dead worker's messages, so the requeue follows the timeout.
TIMINGS: dict[str, Any] = {
    "job_max_retries": 5,
    "job_min_backoff_ms": 100,
    "job_max_backoff_ms": 400,
    "job_time_limit_ms": 4_000,
    "notification_stale_claim_s": 5.0,
    "job_heartbeat_timeout_ms": 4_000,
    "job_maintenance_chance": 1_000_000,
    "outbox_sweep_interval_s": 1.0,
    "outbox_sweep_age_s": 1.0,
    "worker_threads": 2,
    "cbb_retries": 1,
    "cbb_backoff_s": 0.05,
}


def order_body(name: str, n: int | None = None) -> dict[str, Any]:
    """A fixture body; with `n`, a distinct order (its own id and phone) of the same shape."""
    data: dict[str, Any] = copy.deepcopy(json.loads((FIXTURES / name).read_text()))
    if n is not None:
        order_id = f"IL2511{n:02d}GB{n:02d}"
        data["order"]["id"] = data["form"]["orderId"] = order_id
        data["form"]["client"]["phone"] = {"code": "+972", "number": f"05411122{n:02d}"}
    return data


def il_phone(n: int | None = None) -> str:
    """The normalised phone of `order_body("il-uk-eta.json", n)`."""
    return "972541112233" if n is None else f"9725411122{n:02d}"


def e2e_settings(postgres_url: str, redis_url: str, vendor: FakeVendor, **changes: Any) -> Settings:
    """Production settings (PostgreSQL, Redis in a fresh namespace, the CRM at the fake vendor),
    checked the way a process reads them."""
    settings = with_auth(
        Settings(
            database_url=postgres_url,
            redis_url=redis_url,
            redis_namespace=f"visapi-e2e-{uuid.uuid4().hex[:10]}",
            db_pool_size=4,
            cbb_base_url=vendor.base_url,
            cbb_token=vendor.token,
            whatsapp_app_secret=APP_SECRET,
        ),
        secret_key="e2e-shared-hmac-key-0123456789abcdef",
        **{**TIMINGS, **changes},
    )
    return load_settings(settings_env(settings))


@dataclass
class Run:
    """One end-to-end run: the API in-process, its HTTP client, keys, workers, the vendor."""

    settings: Settings
    c: Container
    http: httpx.AsyncClient
    admin: str
    vendor: FakeVendor
    procs: Processes
    redis: redis.Redis

    async def post_order(self, body: dict[str, Any], expected: int = 201) -> dict[str, Any]:
        hook = await self.webhook_key()
        answer = await self.http.post(WEBHOOK, json=body, headers={"X-API-Key": hook})
        assert answer.status_code == expected, answer.text
        found: dict[str, Any] = answer.json()
        return found

    _hook: str | None = field(default=None, init=False)

    async def webhook_key(self) -> str:
        if self._hook is None:
            self._hook = await key(self.c, "webhook:vizi", "logs:write", name="storefront")
        return self._hook

    async def graphql(self, query: str, **variables: Any) -> dict[str, Any]:
        answer = await self.http.post(
            "/graphql",
            json={"query": query, "variables": variables},
            headers={"X-API-Key": self.admin},
        )
        assert answer.status_code == 200, answer.text
        document = answer.json()
        assert not document.get("errors"), document
        data: dict[str, Any] = document["data"]
        return data

    async def whatsapp(self, *statuses: dict[str, Any]) -> httpx.Response:
        """POST Meta's delivery statuses, signed with the app secret."""
        value = {"messaging_product": "whatsapp", "metadata": {"phone_number_id": "1"}}
        change = {"field": "messages", "value": {**value, "statuses": list(statuses)}}
        body = {"object": "whatsapp_business_account", "entry": [{"id": "w", "changes": [change]}]}
        raw = json.dumps(body).encode()
        secret = self.settings.whatsapp_app_secret
        assert secret is not None
        signature = signature_of(raw, secret)
        headers = {"Content-Type": "application/json", "X-Hub-Signature-256": signature}
        return await self.http.post(WHATSAPP, content=raw, headers=headers)

    # Rows

    async def rows(self, query: Any) -> list[dict[str, Any]]:
        async with self.c.engine.connect() as conn:
            return [dict(r._mapping) for r in (await conn.execute(query)).all()]

    async def order_uuid(self, order_id: str) -> uuid.UUID:
        found = await self.rows(select(orders.c.id).where(orders.c.order_id == order_id))
        assert len(found) == 1, f"no order {order_id}"
        return uuid.UUID(str(found[0]["id"]))

    async def notes(self, order_uuid: uuid.UUID | None = None) -> list[dict[str, Any]]:
        query = select(notifications).order_by(notifications.c.created_at)
        if order_uuid is not None:
            query = query.where(notifications.c.order_uuid == order_uuid)
        return await self.rows(query)

    async def sync_of(self, order_uuid: uuid.UUID) -> dict[str, Any] | None:
        query = select(contact_syncs).where(contact_syncs.c.order_uuid == order_uuid)
        found = await self.rows(query)
        return found[0] if found else None

    async def dead_letters(self) -> list[dict[str, Any]]:
        return await self.rows(select(failed_jobs).order_by(failed_jobs.c.failed_at))

    async def jobs(self, actor: str | None = None) -> list[dict[str, Any]]:
        query = select(outbox).order_by(outbox.c.created_at)
        if actor is not None:
            query = query.where(outbox.c.actor == actor)
        return await self.rows(query)

    # The broker, read in Redis

    def key(self, name: str) -> str:
        return f"{self.settings.redis_namespace}:{name}"

    def idle(self) -> bool:
        """No message anywhere: none ready, delayed, fetched or running (acknowledged ones
        leave their queue's `.msgs` hash; dead-lettered ones too)."""
        pipe = self.redis.pipeline(transaction=False)
        for q in QUEUES:
            for name in (q, f"{q}.DQ"):
                pipe.llen(self.key(name))
                pipe.hlen(self.key(f"{name}.msgs"))
        return not any(pipe.execute())

    def processed(self, queue: str) -> int:
        """Deliveries of `queue` the workers finished without raising (JobCounters)."""
        now = time.time()
        buckets = range(bucket_of(now - BUCKET_TTL_S), bucket_of(now) + 1)
        pipe = self.redis.pipeline(transaction=False)
        for b in buckets:
            pipe.hget(self.key(f"jobstats:{b}"), f"{queue}:processed")
        return sum(int(v) for v in pipe.execute() if v is not None)

    async def until(
        self, check: Callable[[], Awaitable[T | None]] | Callable[[], T | None], what: str
    ) -> T:
        """Poll `check` until it gives a truthy value; fail naming `what`, with the workers'
        logs, past the deadline (a loaded machine waits longer, it never passes wrongly)."""

        async def ready() -> T | None:
            value = check()
            if asyncio.iscoroutine(value):
                value = await value
            if not value:
                self.procs.alive()  # a dead worker fails now, not at the deadline
            return value  # type: ignore[return-value]

        found = await eventually(
            ready,
            timeout_s=DEADLINE_S,
            why=lambda: f"timed out waiting for {what}\n{self.procs.logs()}",
        )
        assert found is not None
        return found


@asynccontextmanager
async def e2e_run(settings: Settings, vendor: FakeVendor, folder: Path) -> AsyncIterator[Run]:
    client = redis.Redis.from_url(str(settings.redis_url))
    try:
        async with running(settings) as (c, http):
            with processes(settings, folder) as procs:
                admin = await key(c, "admin", name="operator")
                yield Run(settings, c, http, admin, vendor, procs, client)
    finally:
        client.close()
