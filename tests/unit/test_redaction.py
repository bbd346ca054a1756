"""Redaction of business logs, table-driven: what must go, and what must stay as it is."""

from __future__ import annotations

from typing import Any

import pytest

from domain.logs.redaction import (
    CARD,
    EMAIL,
    PHONE,
    SECRET,
    TOKEN,
    is_secret_key,
    luhn_valid,
    redact,
    redact_text,
)

JWT = (
    "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0"
    ".dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U"
)
KEY = "vk_0123456789abcdef." + "ab" * 32

REDACTED = [
    # emails
    ("mail avi.cohen@example.com now", f"mail {EMAIL} now"),
    ("<first.last+tag@sub.example.co.il>", f"<{EMAIL}>"),
    ("UPPER@EXAMPLE.ORG", EMAIL),
    # Israeli phones: E.164 with and without plus, 00 prefix, (0), spaces, dashes, national
    ("call +972541112233", f"call {PHONE}"),
    ("call +972-54-111-2233.", f"call {PHONE}."),
    ("call +972 54 111 2233", f"call {PHONE}"),
    ("call +972 (0)54 111 2233", f"call {PHONE}"),
    ("972541112233", PHONE),
    ("00972541112233", PHONE),
    ("phone 0541112233,", f"phone {PHONE},"),
    ("phone 054-111-2233", f"phone {PHONE}"),
    ("phone 054 111 2233", f"phone {PHONE}"),
    ("landline 02-123-4567", f"landline {PHONE}"),
    ("landline +972-2-123-4567", f"landline {PHONE}"),
    ("voip 077-123-4567", f"voip {PHONE}"),
    # other phones
    ("se +46 70 123 45 67", f"se {PHONE}"),
    ("us +1 (212) 555-0100", f"us {PHONE}"),
    ("us (212) 555-0100", f"us {PHONE}"),
    ("us 212-555-0100", f"us {PHONE}"),
    ("ru +7 912 345-67-89", f"ru {PHONE}"),
    # card numbers (Luhn-valid), plain, spaced, dashed; 13 to 19 digits
    ("card 4111111111111111 charged", f"card {CARD} charged"),
    ("card 4111 1111 1111 1111", f"card {CARD}"),
    ("card 5555-5555-5555-4444", f"card {CARD}"),
    ("amex 378282246310005", f"amex {CARD}"),
    ("visa13 4222222222222", f"visa13 {CARD}"),
    ("card 4111 1111 1111 1111 exp 2026", f"card {CARD} exp 2026"),
    # tokens, secrets, our API keys (the public prefix stays)
    (f"Authorization: Bearer {JWT}", f"Authorization: Bearer {TOKEN}"),
    (f"jwt {JWT} seen", f"jwt {TOKEN} seen"),
    ("Bearer abcdefgh12345678", f"Bearer {TOKEN}"),
    ("basic dXNlcjpwYXNzd29yZA==", f"basic {TOKEN}"),
    (f"key {KEY} used", f"key vk_0123456789abcdef.{SECRET} used"),
    ("retry with token=abc123def456&x=1", f"retry with token={SECRET}&x=1"),
    ("password: hunter22", f"password: {SECRET}"),
    ("api_key=sk_live_1234", f"api_key={SECRET}"),
    # several at once
    ("a@b.io and +972541112233", f"{EMAIL} and {PHONE}"),
]

KEPT = [
    "order IL250819GB16 received",
    "order IL251101GB07 synced in 3 attempts",
    "uuid 550e8400-e29b-41d4-a716-446655440000",
    "uuid 05123456-0541-4112-2233-054111223344",
    "correlation 3f2a9c0d4b8e4f5aa1b2c3d4e5f60718",
    "amount 165.00 ILS, 1234.50 USD, 1,250,000.00",
    "date 2026-11-28 and 2026-11-28T15:28:03.123+00:00",
    "at 2026-11-28 15:28:03Z for 05/11/2026",
    "timestamp 1732806483123",
    "counter 1234567890123456",  # starts with 1: not a card network
    "card 4111111111111112",  # fails Luhn
    "short 12345678",
    "ip 192.168.100.200",
    "version 1.2.3 build 20261128",
    "token expired for this key",
    "5 applicants, 3 processing days",
    "payment bit_55120934 form frm_8ZqP2",
    "",
    "plain words only",
]


@pytest.mark.parametrize(("text", "expected"), REDACTED)
def test_pii_is_replaced(text: str, expected: str) -> None:
    result = redact_text(text)
    assert result.value == expected
    assert result.redacted


@pytest.mark.parametrize("text", KEPT)
def test_what_is_not_pii_is_kept(text: str) -> None:
    result = redact_text(text)
    assert result.value == text
    assert not result.redacted


@pytest.mark.parametrize(
    ("value", "expected", "flag"),
    [
        (
            {"email": "a@b.io", "order_id": "IL250819GB16", "amount": "165.00"},
            {"email": EMAIL, "order_id": "IL250819GB16", "amount": "165.00"},
            True,
        ),
        (
            {"client": {"phones": ["+972541112233", "0541112233"], "name": "Avi"}},
            {"client": {"phones": [PHONE, PHONE], "name": "Avi"}},
            True,
        ),
        (
            {"password": "p", "apiKey": 42, "X-Api-Key": "k", "client_secret": ["s"]},
            {"password": SECRET, "apiKey": SECRET, "X-Api-Key": SECRET, "client_secret": SECRET},
            True,
        ),
        (
            {"Authorization": "Bearer x", "access_token": {"v": 1}, "cookie": "c=1"},
            {"Authorization": SECRET, "access_token": SECRET, "cookie": SECRET},
            True,
        ),
        (
            {"phone": 972541112233, "count": 12, "total": 165},
            {"phone": PHONE, "count": 12, "total": 165},
            True,
        ),
        # nothing to hide: flags and empty secrets stay, nothing is flagged
        (
            {"signature_verified": True, "token": None, "password": "", "attempts": 3},
            {"signature_verified": True, "token": None, "password": "", "attempts": 3},
            False,
        ),
        ({"ids": ["IL250819GB16", 7, None, 1.5]}, {"ids": ["IL250819GB16", 7, None, 1.5]}, False),
        ("a@b.io", EMAIL, True),
        (None, None, False),
        (3.25, 3.25, False),
    ],
)
def test_nested_json_is_redacted(value: Any, expected: Any, flag: bool) -> None:
    result = redact(value)
    assert result.value == expected
    assert result.redacted is flag


def test_redaction_does_not_change_its_input() -> None:
    original = {"client": {"email": "a@b.io"}, "list": ["0541112233"]}
    redact(original)
    assert original == {"client": {"email": "a@b.io"}, "list": ["0541112233"]}


@pytest.mark.parametrize(
    ("key", "secret"),
    [
        ("password", True),
        ("newPassword", True),
        ("x-api-key", True),
        ("API_KEY", True),
        ("refresh_token", True),
        ("authorization", True),
        ("private_key", True),
        ("card_number", True),
        ("idempotency_key", False),
        ("order_id", False),
        ("email", False),
        ("key", False),
    ],
)
def test_secret_looking_keys(key: str, secret: bool) -> None:
    assert is_secret_key(key) is secret


@pytest.mark.parametrize(
    ("digits", "valid"),
    [("4111111111111111", True), ("4111111111111112", False), ("378282246310005", True)],
)
def test_luhn(digits: str, valid: bool) -> None:
    assert luhn_valid(digits) is valid
