"""Fuzz the storefront's order webhook: mutated fixture bodies, broken JSON, bad headers, keys."""

from __future__ import annotations

from typing import Any

from hypothesis import strategies as st

from tests.fuzz.strategies import AUTHENTICATED, ORDER_FIXTURES, header_values, raw_bodies
from tests.fuzz.support import Target, fuzz

URL = "/api/v1/webhooks/vizi/orders"
# A few fixed idempotency keys so that generated bodies reuse them (replays, conflicting reuse).
KEYS = [b"order-1", b"order-2", b"retry-me"]

headers = st.fixed_dictionaries(
    {},
    optional={
        "X-Idempotency-Key": st.one_of(st.sampled_from(KEYS), header_values),
        "Content-Type": st.sampled_from(
            [b"application/json", b"text/plain", b"application/x-www-form-urlencoded", b""]
        ),
        "X-API-Key": header_values,
        "Authorization": st.one_of(st.just(b"Bearer a.b.c"), header_values),
    },
)


def test_order_webhook(app: Target) -> None:
    def send(value: tuple[bytes, dict[str, Any], bool]) -> None:
        body, extra, authenticated = value
        sent = {**app.headers(), **extra} if authenticated else extra
        app.check(app.client.post(URL, content=body, headers=sent))

    strategy = st.tuples(raw_bodies(ORDER_FIXTURES), headers, AUTHENTICATED)
    fuzz(app, "vizi webhook", 0.2, strategy, send)
