"""Fuzz the storefront's order webhook: mutated fixture bodies, broken JSON, bad headers, keys."""

from __future__ import annotations

from typing import Any

from hypothesis import strategies as st

from tests.fuzz.strategies import AUTHENTICATED, header_values, orders, raw_bodies
from tests.fuzz.support import Target, fuzz

URL = "/api/v1/webhooks/vizi/orders"
# A few fixed idempotency keys so that generated bodies reuse them (replays, conflicting reuse).
KEYS = [b"order-1", b"order-2", b"retry-me"]

usual = {
    "X-Idempotency-Key": st.one_of(
        st.uuids().map(lambda u: str(u).encode()), st.sampled_from(KEYS), header_values
    ),
    "Content-Type": st.sampled_from(
        [b"application/json", b"text/plain", b"application/x-www-form-urlencoded", b""]
    ),
}
credentials = {
    "X-API-Key": header_values,
    "Authorization": st.one_of(st.just(b"Bearer a.b.c"), header_values),
}
# Bad credentials in one request of four: the rest reach the intake behind the key check.
headers = st.one_of(
    *[st.fixed_dictionaries({}, optional=usual)] * 3,
    st.fixed_dictionaries({}, optional={**usual, **credentials}),
)


def test_order_webhook(app: Target) -> None:
    def send(value: tuple[bytes, dict[str, Any], bool]) -> None:
        body, extra, authenticated = value
        sent = {**app.headers(), **extra} if authenticated else extra
        app.check(app.client.post(URL, content=body, headers=sent))

    strategy = st.tuples(raw_bodies(orders()), headers, AUTHENTICATED)
    fuzz(app, "vizi webhook", 0.2, strategy, send)
