"""PII redaction of business log messages and metadata, before anything is stored.

Pure and table-tested: emails (also `%40`-encoded, quoted and international), phone numbers
(Israeli E.164 `+972…`/`972…`, local `05x…`, spaced, dashed and dotted forms, other
international numbers), card numbers (13-19 digits passing Luhn), Israeli ID numbers (check
digit), bearer tokens, JWTs, vendors' keys, passwords in URLs, Slack webhooks, our API keys
`<prefix>.<secret>`, and any value under a secret- or identity-document-looking key. Order ids
(IL250819GB16), uuids, amounts and ISO dates are left alone: every pattern refuses to start or
end inside a longer word or number. Bare national numbers (a mobile without its 0, an ID
number) count only in free text or under phone- and id-like keys: alone under any other key
they are an amount, a count or an id.

Every string is cut to `MAX_TEXT` characters before it is matched (the patterns are linear,
domain.logs.patterns, and the cap bounds their work per string): what is beyond is dropped,
replaced by `[TRUNCATED n chars]`, and the result is flagged, since it was never examined.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from domain.logs.patterns import (
    CARD,
    EMAIL,
    ID,
    PHONE,
    SECRET,
    STRONG,
    TOKEN,
    WEAK_NUMBERS,
    apply_rules,
    luhn_valid,
)

__all__ = ["CARD", "EMAIL", "ID", "MAX_TEXT", "PHONE", "SECRET", "TOKEN", "Redacted"]
__all__ += ["is_identity_key", "is_phone_key", "is_secret_key", "luhn_valid"]
__all__ += ["redact", "redact_text"]

# 32 KiB of text per string: a log line or a metadata value longer than that is a payload
# dump, not something an operator reads; it keeps the worst case of one string to ~10 ms.
MAX_TEXT = 32_768
_CUT_BACK = 256  # cut at a space this close to the cap, so no PII is left half-cut and unseen

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
# Identity documents: the whole value goes, whatever its format (passports have many).
_IDENTITY_KEY_ENDS = (
    "passport",
    "passportnumber",
    "passportno",
    "passportnum",
    "passportid",
    "idnumber",
    "idno",
    "idnum",
    "nationalid",
    "identitynumber",
    "identitycard",
    "idcard",
    "teudatzehut",
    "zehut",
    "personalnumber",
    "documentnumber",
)
_IDENTITY_KEYS = frozenset({"tz", "ssn"})
_PHONE_KEY_PARTS = ("phone", "mobile", "whatsapp", "msisdn")
_PHONE_KEYS = frozenset({"tel", "cell", "cellular"})
# A string that is only a number (digits and separators): under an ordinary key it is an
# amount or an id, so only the unambiguous patterns apply.
_NUMBER_ONLY = re.compile(r"[\s\d+().-]{0,64}")


@dataclass(frozen=True, slots=True)
class Redacted:
    value: Any
    redacted: bool


def _flat(key: str) -> str:
    return key.lower().replace("-", "").replace("_", "").replace(" ", "")


def is_secret_key(key: str) -> bool:
    flat = _flat(key)
    return any(part in flat for part in _SECRET_KEY_PARTS)


def is_identity_key(key: str) -> bool:
    flat = _flat(key)
    return flat in _IDENTITY_KEYS or flat.endswith(_IDENTITY_KEY_ENDS)


def is_phone_key(key: str) -> bool:
    flat = _flat(key)
    return flat in _PHONE_KEYS or any(part in flat for part in _PHONE_KEY_PARTS)


def _cap(text: str) -> tuple[str, bool]:
    if len(text) <= MAX_TEXT:
        return text, False
    space = text.rfind(" ", MAX_TEXT - _CUT_BACK, MAX_TEXT)
    cut = space if space > 0 else MAX_TEXT
    return f"{text[:cut]} [TRUNCATED {len(text) - cut} chars]", True


def redact_text(text: str, *, free: bool = True) -> Redacted:
    """The text with every PII match replaced by its placeholder.

    `free`: the text is prose (a message, a note), where a bare national number is PII too.
    """
    capped, cut = _cap(text)
    out = apply_rules(capped, STRONG + WEAK_NUMBERS if free else STRONG)
    return Redacted(out, cut or out != capped)


def _hideable(value: Any) -> bool:
    # Flags (`signature_verified: true`) and empty values reveal nothing.
    return not isinstance(value, bool) and value not in (None, "", [], {})


def redact(value: Any, *, phone_like: bool = False) -> Redacted:
    """Redact a string, or every string inside nested dicts and lists (keys included).

    A value under a secret-looking key becomes `[SECRET]`, under an identity-document key
    `[ID]`, whatever its type (None and empty values stay: there is nothing to hide). Under a
    phone-like key (`phone_like`), numbers alone count as phone and ID numbers too.
    """
    if isinstance(value, str):
        free = phone_like or not _NUMBER_ONLY.fullmatch(value)
        return redact_text(value, free=free)
    if isinstance(value, Mapping):
        changed = False
        out: dict[str, Any] = {}
        for key, item in value.items():
            name = redact_text(str(key)).value
            if _hideable(item) and (is_secret_key(name) or is_identity_key(name)):
                out[name] = SECRET if is_secret_key(name) else ID
                changed = True
                continue
            inner = redact(item, phone_like=is_phone_key(name))
            out[name] = inner.value
            changed = changed or inner.redacted or name != str(key)
        return Redacted(out, changed)
    if isinstance(value, int) and not isinstance(value, bool) and (phone_like or value >= 10**7):
        # A phone, card or ID number sent as a JSON number.
        inner = redact_text(str(value), free=phone_like)
        return inner if inner.redacted else Redacted(value, False)
    if isinstance(value, list | tuple):
        parts = [redact(item, phone_like=phone_like) for item in value]
        return Redacted([p.value for p in parts], any(p.redacted for p in parts))
    return Redacted(value, False)
