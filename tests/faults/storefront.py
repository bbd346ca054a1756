"""The storefront of the fault run: il orders posted at a steady rate to the order webhook, each
with its own `X-Idempotency-Key`, a failed post retried with the same key until acknowledged."""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from dataclasses import dataclass, field

import httpx

from tests.bench.pipeline_load import JSON_BODY, body

WEBHOOK = "/api/v1/webhooks/vizi/orders"
RETRY_PAUSE_S = 0.5
ATTEMPT_TIMEOUT_S = 20.0


@dataclass
class Delivery:
    order_id: str
    phone: str
    attempts: int = 0
    acked_after_s: float | None = None  # from the first post to the acknowledgement
    refused: str | None = None  # a 4xx other than "busy": the order will never be taken


@dataclass
class Load:
    deliveries: list[Delivery] = field(default_factory=list)
    statuses: Counter[str] = field(default_factory=Counter)  # every answer, by status or error
    seconds: float = 0.0

    @property
    def acknowledged(self) -> list[Delivery]:
        return [d for d in self.deliveries if d.acked_after_s is not None]

    @property
    def first_try_failures(self) -> int:
        return sum(1 for d in self.deliveries if d.attempts > 1 or d.acked_after_s is None)

    @property
    def longest_retry_s(self) -> float:
        return max((d.acked_after_s or 0.0 for d in self.deliveries), default=0.0)

    def server_errors(self, *, expected: frozenset[int]) -> Counter[str]:
        """5xx answers other than `expected` ones (e.g. 503: idempotency fails closed)."""
        return Counter(
            {
                s: n
                for s, n in self.statuses.items()
                if s.isdigit() and int(s) >= 500 and int(s) not in expected
            }
        )


def il_phone(n: int) -> str:
    """The normalised phone of `body(order_id, n)`: +972 054nnnnnnn."""
    return f"97254{n:07d}"


async def post_orders(
    base_url: str, api_key: str, order_ids: list[str], first_n: int, rate: float, give_up_s: float
) -> Load:
    """Post every order once per 1/`rate` seconds (open loop), each retried until acknowledged
    or `give_up_s` after its first post."""
    load = Load()
    headers = {"X-API-Key": api_key, **JSON_BODY}
    limits = httpx.Limits(max_connections=200, max_keepalive_connections=50)
    async with httpx.AsyncClient(
        base_url=base_url, timeout=ATTEMPT_TIMEOUT_S, limits=limits
    ) as client:
        started = time.monotonic()
        tasks = []
        for i, order_id in enumerate(order_ids):
            delay = started + i / rate - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
            delivery = Delivery(order_id, il_phone(first_n + i))
            load.deliveries.append(delivery)
            payload = body(order_id, first_n + i)
            tasks.append(
                asyncio.create_task(_deliver(client, headers, payload, delivery, load, give_up_s))
            )
        await asyncio.gather(*tasks)
        load.seconds = time.monotonic() - started
    return load


async def _deliver(
    client: httpx.AsyncClient,
    headers: dict[str, str],
    payload: bytes,
    delivery: Delivery,
    load: Load,
    give_up_s: float,
) -> None:
    key = {"X-Idempotency-Key": f"faults-{delivery.order_id}"}
    first = time.monotonic()
    while time.monotonic() - first < give_up_s:
        delivery.attempts += 1
        try:
            answer = await client.post(WEBHOOK, content=payload, headers={**headers, **key})
            outcome = str(answer.status_code)
        except httpx.HTTPError as exc:
            answer, outcome = None, type(exc).__name__
        load.statuses[outcome] += 1
        if answer is not None and answer.status_code in (200, 201):
            delivery.acked_after_s = time.monotonic() - first
            return
        if (
            answer is not None
            and 400 <= answer.status_code < 500
            and answer.status_code
            not in (
                409,  # the first post with this key is still running
                429,
            )
        ):
            delivery.refused = f"{answer.status_code} {answer.text[:200]}"
            return
        await asyncio.sleep(RETRY_PAUSE_S)
