"""Fuzz Meta's WhatsApp webhook: the GET handshake's parameters, and POST bodies mutated from a
valid delivery-status payload, signed with the right secret, unsigned or wrongly signed."""

from __future__ import annotations

from typing import Any

from hypothesis import strategies as st

from rest.whatsapp import SIGNATURE_HEADER, signature_of
from tests.fuzz.strategies import NASTY, header_values, raw_bodies
from tests.fuzz.support import WHATSAPP_SECRET, WHATSAPP_VERIFY, Target, fuzz

URL = "/api/v1/webhooks/whatsapp"


def delivery(state: str, wamid: str = "wamid.HBgM1", phone: str = "972541112233") -> Any:
    status = {"id": wamid, "status": state, "timestamp": "1772366400", "recipient_id": phone}
    if state == "failed":
        status["errors"] = [{"code": 131026, "title": "Message undeliverable"}]
    value = {
        "messaging_product": "whatsapp",
        "metadata": {"phone_number_id": "1"},
        "statuses": [status],
    }
    change = {"field": "messages", "value": value}
    return {"object": "whatsapp_business_account", "entry": [{"id": "waba", "changes": [change]}]}


PAYLOADS = [delivery(s) for s in ("sent", "delivered", "read", "failed")]
# Query-string values as a client would send them: any text but lone surrogates.
query_text = st.one_of(
    st.sampled_from([n for n in NASTY if "\ud800" not in n and "\udfff" not in n]),
    st.text(st.characters(blacklist_categories=("Cs",)), max_size=40),
)


def test_handshake(app: Target) -> None:
    def send(params: dict[str, str]) -> None:
        app.check(app.client.get(URL, params=params))

    fields = {
        "hub.mode": st.one_of(st.just("subscribe"), st.just("subscribe"), query_text),
        "hub.verify_token": st.one_of(
            st.just(WHATSAPP_VERIFY), st.just(WHATSAPP_VERIFY), query_text
        ),
        "hub.challenge": query_text,
    }
    # All three parameters (so that many pass and echo the challenge), or any of them.
    params = st.one_of(
        st.fixed_dictionaries(fields, optional={"extra": query_text}),
        st.fixed_dictionaries({}, optional=fields),
    )
    fuzz(app, "WhatsApp handshake", 0.03, params, send)


def test_deliveries(app: Target) -> None:
    def send(value: tuple[bytes, str, Any]) -> None:
        body, how, header = value
        headers: dict[str, Any] = {"Content-Type": "application/json"}
        if how == "signed":
            headers[SIGNATURE_HEADER] = signature_of(body, WHATSAPP_SECRET)
        elif how == "wrong secret":
            headers[SIGNATURE_HEADER] = signature_of(body, "not-the-secret")
        elif how == "garbage":
            headers[SIGNATURE_HEADER] = header
        app.check(app.client.post(URL, content=body, headers=headers))

    # Signed mostly, so that mutated bodies reach the parsing and recording behind the check.
    signing = st.sampled_from(["signed"] * 6 + ["unsigned", "wrong secret", "garbage"])
    strategy = st.tuples(raw_bodies(PAYLOADS), signing, header_values)
    fuzz(app, "WhatsApp deliveries", 0.07, strategy, send)
