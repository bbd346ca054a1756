"""The pipeline bench's order bodies and its Python HTTP senders (warm-up, the paced steady rate).

Saturation runs use wrk (tests/bench/wrk.lua); these senders are for what wrk cannot do: record
each order's send time, to join it to the confirmation the workers recorded.
"""

from __future__ import annotations

import asyncio
import json
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[2]
FIXTURE = ROOT / "tests/fixtures/vizi-orders/il-uk-eta.json"
# Warm-up bodies: se orders take the whole intake path but cause no job (sync is il only).
WARMUP_FIXTURE = ROOT / "tests/fixtures/vizi-orders/se-india-uppercase-branch-extra-keys.json"
JSON_BODY = {"Content-Type": "application/json"}


def body(order_id: str, n: int) -> bytes:
    """The il fixture with its own order id and phone (new customers: the CRM create path);
    the se fixture for warm-up ids (`SE…`)."""
    doc = json.loads((WARMUP_FIXTURE if order_id.startswith("SE") else FIXTURE).read_text())
    doc["order"]["id"] = order_id
    doc["form"]["orderId"] = order_id
    doc["form"]["client"]["phone"] = {"code": "+972", "number": f"054{n:07d}"}
    return json.dumps(doc).encode()


def wrk_body(mobile_prefix: str) -> bytes:
    """One body for wrk.lua: __OID__ and __PHN__ become a new order id and phone per request
    (each run its own mobile prefix, so every order is a new customer for the CRM)."""
    doc = json.loads(FIXTURE.read_text())
    doc["order"]["id"] = doc["form"]["orderId"] = "__OID__"
    doc["form"]["client"]["phone"] = {"code": "+972", "number": f"{mobile_prefix}__PHN__"}
    return json.dumps(doc, ensure_ascii=False).encode()


def pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


@dataclass
class Posted:
    latencies_ms: list[float]
    sent_at: dict[str, float]  # order id -> wall-clock time the POST was sent
    errors: list[str]
    seconds: float
    created: list[str] = field(default_factory=list)  # ids answered 201


async def post_all(
    url: str, headers: dict[str, str], ids: list[str], base: int, connections: int
) -> Posted:
    """Every body once, by `connections` concurrent keep-alive connections."""
    out = Posted([], {}, [], 0.0)
    queue = list(enumerate(ids))
    limits = httpx.Limits(max_connections=connections, max_keepalive_connections=connections)
    async with httpx.AsyncClient(timeout=30, limits=limits, headers=headers) as client:

        async def one_connection() -> None:
            while queue:
                n, order_id = queue.pop()
                await _post(client, url, order_id, base + n, out)

        started = time.perf_counter()
        await asyncio.gather(*(one_connection() for _ in range(connections)))
        out.seconds = time.perf_counter() - started
    return out


async def post_paced(
    url: str, headers: dict[str, str], ids: list[str], base: int, rate: float
) -> Posted:
    """One body every 1/`rate` seconds, whatever the answers take (open loop)."""
    out = Posted([], {}, [], 0.0)
    async with httpx.AsyncClient(timeout=30, headers=headers) as client:
        started = time.perf_counter()
        tasks = []
        for n, order_id in enumerate(ids):
            delay = started + n / rate - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            tasks.append(asyncio.create_task(_post(client, url, order_id, base + n, out)))
        await asyncio.gather(*tasks)
        out.seconds = time.perf_counter() - started
    return out


async def _post(client: httpx.AsyncClient, url: str, order_id: str, n: int, out: Posted) -> None:
    payload = body(order_id, n)
    out.sent_at[order_id] = time.time()
    t0 = time.perf_counter()
    try:
        answer = await client.post(url, content=payload, headers=JSON_BODY)
    except httpx.HTTPError as exc:
        out.errors.append(f"{order_id}: {type(exc).__name__}")
        return
    out.latencies_ms.append((time.perf_counter() - t0) * 1000)
    if answer.status_code == 201:
        out.created.append(order_id)
    else:
        out.errors.append(f"{order_id}: HTTP {answer.status_code} {answer.text[:160]}")
