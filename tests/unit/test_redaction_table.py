"""Redaction, both directions, on the inputs a penetration test slipped through (issue 11,
finding 7) and on their look-alikes that must stay: order ids, amounts, dates, versions."""

from __future__ import annotations

from typing import Any

import pytest

from domain.logs.patterns import israeli_id_valid
from domain.logs.redaction import (
    CARD,
    EMAIL,
    ID,
    MAX_TEXT,
    PHONE,
    SECRET,
    TOKEN,
    redact,
    redact_text,
)

MUST_GO = [
    # phones: dotted, national without the 0, and the forms around them
    ("+972.50.724.7157", PHONE),
    ("call +972.50.724.7157 today", f"call {PHONE} today"),
    ("00972.50.724.7157", PHONE),
    ("+972 50 724 7157", PHONE),
    ("+972-50-724-7157.", f"{PHONE}."),
    ("507247157", PHONE),
    ("whatsapp 507247157 failed", f"whatsapp {PHONE} failed"),
    ("mobile 50-724-7157", f"mobile {PHONE}"),
    ("mobile 50 724 7157", f"mobile {PHONE}"),
    ("mobile 50.724.7157", f"mobile {PHONE}"),
    ("050.724.7157", PHONE),
    ("tel: 0507247157", f"tel: {PHONE}"),
    ("+1.212.555.0100", PHONE),
    ("+44 20 7946 0958", PHONE),
    # emails: URL-encoded, quoted, international, upper case, in links
    ("avi%40example.com", EMAIL),
    ("AVI%40EXAMPLE.COM", EMAIL),
    ("to=avi%40example.com&x=1", f"to={EMAIL}&x=1"),
    ('"avi"@example.com', EMAIL),
    ('from "avi cohen" <"avi"@example.com>', f'from "avi cohen" <{EMAIL}>'),
    ("avi@例え.jp", EMAIL),
    ("אבי@דוגמה.ישראל", EMAIL),
    ("avi@xn--r8jz45g.jp", EMAIL),
    ("mailto:a@b.co.il", f"mailto:{EMAIL}"),
    ("user_1+visa@mail.example.travel", EMAIL),
    ("reply to avi.cohen@example.com.", f"reply to {EMAIL}."),
    # cards: double spaces, dots, and the usual forms
    ("4111  1111  1111  1111", CARD),
    ("4111.1111.1111.1111", CARD),
    ("card 4111-1111-1111-1111 declined", f"card {CARD} declined"),
    ("3782 822463 10005", CARD),
    ("5555555555554444", CARD),
    ("6011 1111 1111 1117", CARD),
    # Israeli ID numbers (check digit) in free text
    ("id 123456782", f"id {ID}"),
    ("ת.ז. 000000018", f"ת.ז. {ID}"),
    ("tz 12345678-2 verified", f"tz {ID} verified"),
    # credentials in URLs, Slack webhooks
    ("postgresql://user:pw@host/db", f"postgresql://user:{SECRET}@host/db"),
    (
        "postgresql+asyncpg://visapi:s3cr3t@10.0.0.5:5432/visapi",
        f"postgresql+asyncpg://visapi:{SECRET}@10.0.0.5:5432/visapi",
    ),
    ("redis://:pw@host", f"redis://:{SECRET}@host"),
    (
        "rediss://default:Zx9-aa@cache.example.com:6380/0",
        f"rediss://default:{SECRET}@cache.example.com:6380/0",
    ),
    ("amqp://guest:guest@rabbit", f"amqp://guest:{SECRET}@rabbit"),
    (
        "posting to https://hooks.slack.com/services/T0001/B0002/XXXXXXXXXXXXXXXX",
        f"posting to https://hooks.slack.com/services/{SECRET}",
    ),
    (
        "https://hooks.slack.com/workflows/T01/A02/345/abc",
        f"https://hooks.slack.com/workflows/{SECRET}",
    ),
    # vendors' keys
    ("sk_live_51H8abcdefGHIJklmn", TOKEN),
    ("stripe key sk_test_4eC39HqLyjWDarjtT1zdp7dc", f"stripe key {TOKEN}"),
    ("rk_live_abcdef123456", TOKEN),
    ("ghp_abcdefghijklmnopqrstuvwxyz0123456789", TOKEN),
    ("github_pat_11ABCDEFG0123456789_abcdefghijklmnop", TOKEN),
    ("xoxb-1234-5678-abcdef", TOKEN),
    ("slack xoxp-123456789012-abcdefghij said", f"slack {TOKEN} said"),
    ("AKIAIOSFODNN7EXAMPLE", TOKEN),
    ("whsec_abcdefghijklmnop1234", TOKEN),
    ("token abc123def456", f"token {TOKEN}"),
    ("Authorization: token 0123456789abcdef", f"Authorization: token {TOKEN}"),
    ("basic dXNlcjpwYXNzd29yZA==", f"basic {TOKEN}"),
    ("Bearer abcdefgh12345678", f"Bearer {TOKEN}"),
    ("password=hunter22&user=avi", f"password={SECRET}&user=avi"),
]

MUST_STAY = [
    # order ids, uuids, correlation ids, hashes
    "order IL250819GB16 received",
    "IL250819GB16",
    "orders IL251101GB07, IL251101GB08 and IL251101GB09",
    "uuid 550e8400-e29b-41d4-a716-446655440000",
    "550e8400-e29b-41d4-a716-446655440000",
    "correlation 3f2a9c0d4b8e4f5aa1b2c3d4e5f60718",
    "commit a9a0932 and e36b8d3c4f8a9b0c1d2e3f4a5b6c7d8e9f0a1b2c",
    "job run_workflow-8f14e45fceea167a5a36dedd4bea2543",
    # amounts and prices
    "amount 165.00",
    "165.00",
    "1234567.89",
    "total 1234567.89 ILS",
    "1,234,567.89",
    "paid ₪165 and $1,250.00 (€ 99.90)",
    "refund -165.00",
    "972.50 ILS",
    "972501234.56",
    "507247157.00",
    "price 4111.11",
    # dates and times
    "2026-11-28",
    "28/11/2026",
    "28.11.2026",
    "05.11.2026",
    "2026-11-28T15:28:03.123456+02:00",
    "2026-11-28 15:28:03Z",
    "between 2026-11-28 and 2026-12-05",
    "2026-11-28 2026-11-29 2026-11-30",
    "epoch 1732806483",
    "epoch ms 1732806483123",
    "Mon, 07 Dec 2026 03:40:10 GMT",
    # counts, short numbers, statuses, ports, durations, sizes
    "5 applicants, 3 processing days",
    "42",
    "short 12345678",
    "count 1000000",
    "uploaded 123456789 bytes",
    "processed 100000000 rows",
    "HTTP 503 after 1500 ms",
    "listening on 127.0.0.1:5432",
    "ip 192.168.100.200 and 10.0.0.5",
    "retry 3 of 10, backoff 0.25 s",
    "queue depth 12, p99 48.5 ms",
    # versions
    "version 1.2.3 build 20261128",
    "v2.14.3-beta.4",
    "python 3.11.9, sqlalchemy 2.0.36",
    "xhtml2pdf 0.2.28",
    # words that look like the labels
    "token expired for this key",
    "tokens: 1500",
    "password reset requested",
    "basic subscription renewed",
    "bearer of bad news",
    "secret santa",
    "api calls 1500",
    # near misses
    "card 4111 1111 1111 1112",  # fails Luhn
    "id 123456789",  # fails the check digit
    "user@localhost",  # no top-level domain
    "@handle and a@",
    "https://example.com/path?q=1",
    "postgresql://host/db",
    "redis://cache.example.com:6379/0",
    "https://hooks.slack.com/",
    "sk_live_",
    "vk_0123456789abcdef",
    "",
    "plain words only",
]


@pytest.mark.parametrize(("text", "expected"), MUST_GO)
def test_must_go(text: str, expected: str) -> None:
    result = redact_text(text)
    assert (result.value, result.redacted) == (expected, True)


@pytest.mark.parametrize("text", MUST_STAY)
def test_must_stay(text: str) -> None:
    result = redact_text(text)
    assert (result.value, result.redacted) == (text, False)


def test_the_table_is_large_enough() -> None:
    assert len(MUST_GO) + len(MUST_STAY) + len(METADATA) >= 100


METADATA: list[tuple[dict[str, Any], dict[str, Any], bool]] = [
    # a bare national number counts under phone-like keys and in prose, not as an amount or id
    ({"phone": 507247157}, {"phone": PHONE}, True),
    ({"mobile": "50-724-7157"}, {"mobile": PHONE}, True),
    ({"client_phone": "507247157"}, {"client_phone": PHONE}, True),
    ({"phones": [507247157, "+972.50.724.7157"]}, {"phones": [PHONE, PHONE]}, True),
    ({"note": "call 507247157"}, {"note": f"call {PHONE}"}, True),
    ({"amount": 507247157}, {"amount": 507247157}, False),
    ({"ref": "507247157"}, {"ref": "507247157"}, False),
    ({"order_number": 123456782}, {"order_number": 123456782}, False),
    ({"total": "1234567.89", "count": 12}, {"total": "1234567.89", "count": 12}, False),
    # identity documents, whatever their format
    ({"passport": "A1234567"}, {"passport": ID}, True),
    ({"passportNumber": 12345678}, {"passportNumber": ID}, True),
    ({"applicant": {"passport_no": "X99"}}, {"applicant": {"passport_no": ID}}, True),
    ({"id_number": "123456782"}, {"id_number": ID}, True),
    ({"teudat_zehut": "12345678-2"}, {"teudat_zehut": ID}, True),
    ({"tz": 123456782}, {"tz": ID}, True),
    ({"passport_expiry": "2030-01-01"}, {"passport_expiry": "2030-01-01"}, False),
    ({"timezone": "Asia/Jerusalem"}, {"timezone": "Asia/Jerusalem"}, False),
    ({"id": "IL250819GB16", "order_id": 7}, {"id": "IL250819GB16", "order_id": 7}, False),
    ({"passport": None, "phone_verified": True}, {"passport": None, "phone_verified": True}, False),
    # secrets in URLs and webhooks inside metadata
    (
        {"dsn": "postgresql://u:pw@h/d", "hook": "https://hooks.slack.com/services/T/B/X1"},
        {
            "dsn": f"postgresql://u:{SECRET}@h/d",
            "hook": f"https://hooks.slack.com/services/{SECRET}",
        },
        True,
    ),
    # a key can hold PII too
    ({"avi%40example.com": 1}, {EMAIL: 1}, True),
]


@pytest.mark.parametrize(("value", "expected", "flag"), METADATA)
def test_metadata(value: dict[str, Any], expected: dict[str, Any], flag: bool) -> None:
    result = redact(value)
    assert (result.value, result.redacted) == (expected, flag)


@pytest.mark.parametrize(
    ("digits", "valid"),
    [("123456782", True), ("000000018", True), ("123456789", False), ("12345678", False)],
)
def test_israeli_id_check_digit(digits: str, valid: bool) -> None:
    assert israeli_id_valid(digits) is valid


def test_a_long_string_is_cut_at_the_cap_and_flagged() -> None:
    text = "a. " * 50_000
    result = redact_text(text)
    assert len(result.value) <= MAX_TEXT + 40
    assert result.value.endswith(" chars]")
    assert "[TRUNCATED " in result.value
    assert result.redacted  # what is beyond the cap was never examined, so it is not stored


def test_the_cut_leaves_no_half_address_behind() -> None:
    email = "avi.cohen@example.com"
    text = "x" * (MAX_TEXT - 40) + " " + email + " tail" * 100
    result = redact_text(text)
    assert "avi" not in result.value
    assert "[TRUNCATED " in result.value


def test_strings_below_the_cap_are_whole() -> None:
    text = "ok " * 1000
    assert redact_text(text).value == text
