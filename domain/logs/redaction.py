"""PII redaction of business log messages and metadata, before anything is stored.

Pure and table-tested: emails, phone numbers (Israeli E.164 `+972…`/`972…`, local `05x…`,
spaced and dashed forms, other international numbers), card numbers (13-19 digits passing
Luhn), bearer tokens and JWTs, our API keys `<prefix>.<secret>`, and any value under a
secret-looking key. Order ids (IL250819GB16), uuids, amounts and ISO dates are left alone:
every pattern refuses to start or end inside a longer word or number.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

EMAIL = "[EMAIL]"
PHONE = "[PHONE]"
CARD = "[CARD]"
TOKEN = "[TOKEN]"
SECRET = "[SECRET]"

# Keys whose values are secrets whatever they look like (compared lower-cased, without - and _).
_SECRET_KEY_PARTS = (
    "password",
    "passwd",
    "secret",
    "token",
    "authorization",
    "apikey",
    "privatekey",
    "secretkey",
    "accesskey",
    "credential",
    "cookie",
    "signature",
    "cvv",
    "cvc",
    "cardnumber",
)

# Not inside a longer word, number, id or uuid: no letter, digit, `_`, `-`, `.` or `+` around.
_START = r"(?<![\w.+-])"
_END = r"(?![\w-]|\.\w)"

_JWT = re.compile(r"\beyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]*")
_BEARER = re.compile(r"(?i)\b(bearer|basic)(\s+)[A-Za-z0-9._~+/=-]{8,}")
# `token=…`, `password: …` and the like inside free text.
_ASSIGNED = re.compile(
    r"(?i)\b((?:access_|refresh_|api_|id_)?token|secret|password|passwd|api[_-]?key)"
    r"(\s*[:=]\s*)[^\s,;&\"']{4,}"
)
# Our keys (`vk_` + 16 hex `.` 64 hex) and the reference's longer prefixes: keep the public
# prefix (operators search by it), drop the secret.
_API_KEY = re.compile(
    r"\b(vk_[A-Za-z0-9_]{4,29}(?:\.[A-Za-z0-9_-]{1,16})*)\.[A-Za-z0-9_-]{16,256}\b"
)
_EMAIL = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,24}\b")
# 13-19 digits, single spaces or dashes between groups, first digit 2-6 (the card networks);
# timestamps and counters (starting with 1) are spared, the rest must pass Luhn.
_CARD = re.compile(_START + r"[2-6](?:[ -]?\d){12,18}" + _END)
_PHONES = [
    # Israel: +972 / 00972 / 972, optional (0), then 8-9 digits; separators anywhere.
    re.compile(_START + r"(?:\+|00)?972[ -]?(?:\(0\)[ -]?)?[1-9](?:[ -]?\d){7,8}" + _END),
    # Israel, national: 05x-xxx-xxxx (mobile), 0[2-9]-xxx-xxxx and 07x (landline, VoIP).
    re.compile(_START + r"0(?:5\d|7\d|[2-4689])(?:[ -]?\d){7}" + _END),
    # Any other international number in E.164 with its plus: 8-15 digits.
    re.compile(_START + r"\+[1-9](?:[ -]?\(?\d\)?){7,14}" + _END),
    # North American style: (212) 555-0100, 212-555-0100, 212.555.0100.
    re.compile(r"(?<![\w.+-])(?:\(\d{3}\)\s?|\d{3}[-.])\d{3}[-.]\d{4}" + _END),
]


@dataclass(frozen=True, slots=True)
class Redacted:
    value: Any
    redacted: bool


def luhn_valid(digits: str) -> bool:
    total = 0
    for i, char in enumerate(reversed(digits)):
        d = ord(char) - 48
        if i % 2:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


def _card(match: re.Match[str]) -> str:
    digits = re.sub(r"\D", "", match.group())
    return CARD if 13 <= len(digits) <= 19 and luhn_valid(digits) else match.group()


_RULES: list[tuple[re.Pattern[str], str | Callable[[re.Match[str]], str]]] = [
    (_JWT, TOKEN),
    (_BEARER, rf"\1\2{TOKEN}"),
    (_ASSIGNED, rf"\1\2{SECRET}"),
    (_API_KEY, rf"\1.{SECRET}"),
    (_EMAIL, EMAIL),
    (_CARD, _card),
    *((pattern, PHONE) for pattern in _PHONES),
]
# Cheap pre-check: text without a digit or `@` can only hold a token word; skip the rest.
_MAYBE = re.compile(r"[\d@]|eyJ|bearer|basic|token|secret|passw|key", re.IGNORECASE)


def redact_text(text: str) -> Redacted:
    """The text with every PII match replaced by its placeholder."""
    if not _MAYBE.search(text):
        return Redacted(text, False)
    out = text
    for pattern, replacement in _RULES:
        out = pattern.sub(replacement, out)
    return Redacted(out, out != text)


def is_secret_key(key: str) -> bool:
    flat = key.lower().replace("-", "").replace("_", "")
    return any(part in flat for part in _SECRET_KEY_PARTS)


def _hideable(value: Any) -> bool:
    # Flags (`signature_verified: true`) and empty values reveal nothing.
    return not isinstance(value, bool) and value not in (None, "", [], {})


def redact(value: Any) -> Redacted:
    """Redact a string, or every string inside nested dicts and lists (keys included).

    A value under a secret-looking key becomes `[SECRET]` whatever its type (None and empty
    values stay as they are: there is nothing to hide).
    """
    if isinstance(value, str):
        return redact_text(value)
    if isinstance(value, Mapping):
        changed = False
        out: dict[str, Any] = {}
        for key, item in value.items():
            name = str(key)
            if is_secret_key(name) and _hideable(item):
                out[name] = SECRET
                changed = True
                continue
            inner = redact(item)
            out[name] = inner.value
            changed = changed or inner.redacted
        return Redacted(out, changed)
    if isinstance(value, int) and not isinstance(value, bool) and value >= 10**7:
        # A phone or card number sent as a JSON number.
        inner = redact_text(str(value))
        return inner if inner.redacted else Redacted(value, False)
    if isinstance(value, list | tuple):
        parts = [redact(item) for item in value]
        return Redacted([p.value for p in parts], any(p.redacted for p in parts))
    return Redacted(value, False)
