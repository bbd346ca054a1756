"""Pure normalisation rules for storefront order values: branch, phone, amount, days, currency."""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation

import phonenumbers

from domain.orders.model import BRANCHES

DEFAULT_BRANCH = "il"

# E.164 allows 15 digits; a little slack keeps oddly prefixed input instead of discarding it, while
# anything longer is not a phone and would not fit the column.
_MAX_PHONE_DIGITS = 20

# Keys are lower-case with separators removed, so "2_Years", "2-years" and "2years" all match.
_VALIDITY_DAYS = {
    "2weeks": 14,
    "15days": 14,
    "month": 30,
    "1month": 30,
    "2months": 60,
    "3months": 90,
    "6months": 180,
    "year": 365,
    "1year": 365,
    "2years": 730,
    "3years": 1095,
    "5years": 1825,
    "10years": 3650,
}

_URGENT = frozenset({"urgent", "express", "rush", "priority", "next_day", "few_hours"})

_DEFAULT_WAIT = {"morocco": 5, "vietnam": 7}
# A storefront `wait` is 1-30 days; over a year is garbage (and a huge one overflows the column).
_MAX_WAIT = 365

_CURRENCY_BY_COUNTRY = {
    "uk": "GBP",
    "usa": "USD",
    "canada": "CAD",
    "india": "INR",
    "israel": "ILS",
    "vietnam": "VND",
    "korea": "KRW",
    "morocco": "MAD",
    "saudi_arabia": "SAR",
    "schengen": "EUR",
}
_ISO_CURRENCY = re.compile(r"[A-Za-z]{3}")
# The `orders.amount` column is numeric(12, 2).
MAX_AMOUNT = Decimal(10) ** 10


def normalise_branch(raw_branch: object, order_id: str) -> str:
    """A known branch lower-cased; else the order id's two-letter prefix when known; else `il`."""
    if isinstance(raw_branch, str) and raw_branch.strip().lower() in BRANCHES:
        return raw_branch.strip().lower()
    prefix = order_id.strip()[:2].lower()
    return prefix if prefix in BRANCHES else DEFAULT_BRANCH


def normalise_phone(raw: object) -> tuple[str | None, bool]:
    """Digits of a `{code, number}` object, a string or an int, and whether the number is valid.

    A valid number is stored in phonenumbers' E.164 form, so a trunk zero typed after the country
    code ("+972 050...") goes too: the CRM dedupes contacts by exact phone.
    """
    if isinstance(raw, Mapping):
        code, number = _digits(raw.get("code")), _digits(raw.get("number"))
        if code and number:
            number = number.removeprefix("0")
            joined = code + number
            # A number that already carries the code must not become 972972...; but a local number
            # that merely starts with the code's digits (Lund 046... in +46) still needs it.
            if number.startswith(code) and (_e164(number) or not _e164(joined)):
                joined = number
            digits = joined
        else:
            # Without a country code the number cannot be placed; keep what was given, unaltered
            # (a code alone is no phone at all).
            digits = number
    else:
        digits = _digits(raw)
    if not digits or len(digits) > _MAX_PHONE_DIGITS:
        return None, False
    canonical = _e164(digits)
    return canonical or digits, canonical is not None


def _digits(value: object) -> str:
    if isinstance(value, bool):
        return ""
    if isinstance(value, int):
        # Bounded so str() never meets Python's int-to-str digit limit on hostile input.
        return str(value) if 0 <= value < 10**_MAX_PHONE_DIGITS else ""
    if isinstance(value, str):
        return "".join(ch for ch in value if ch.isascii() and ch.isdigit())
    return ""


def _e164(digits: str) -> str | None:
    """The E.164 digits when "+digits" is a usable number, else None.

    Usable: valid for phonenumbers, or shaped exactly like its region's mobile numbers. The
    library's range tables lag behind operators (Israel's 054-1... block is in service but not in
    phonenumbers 9.0), and the storefront's own fixture uses such a number; length-checked
    against the region's example mobile, garbage still fails.
    """
    try:
        number = phonenumbers.parse("+" + digits, None)
    except phonenumbers.NumberParseException:
        return None
    if not (phonenumbers.is_valid_number(number) or _shaped_like_mobile(number)):
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164).lstrip("+")


def _shaped_like_mobile(number: phonenumbers.PhoneNumber) -> bool:
    if number.country_code is None or number.national_number is None:
        return False
    region = phonenumbers.region_code_for_country_code(number.country_code)
    example = phonenumbers.example_number_for_type(region, phonenumbers.PhoneNumberType.MOBILE)
    if example is None or number.italian_leading_zero:
        return False
    national = str(number.national_number)
    sample = str(example.national_number)
    # Same length and same leading digit as the region's mobiles (e.g. Israel: 5xxxxxxxx).
    return len(national) == len(sample) and national[0] == sample[0]


def validity_days(s: object) -> int | None:
    """Days a visa document stays valid, from the product's validity string; None when unknown."""
    if not isinstance(s, str):
        return None
    return _VALIDITY_DAYS.get(re.sub(r"[\s_\-]+", "", s.lower()))


def is_urgent(urgency: object) -> bool:
    """True for the fast speeds: urgent, express, rush, priority, next_day, few_hours."""
    return isinstance(urgency, str) and _key(urgency) in _URGENT


def processing_days(urgent: bool, wait: object, country: object) -> int:
    """Urgent 1; else the product's positive `wait`; else morocco 5, vietnam 7; else 3."""
    if urgent:
        return 1
    days = positive_wait(wait)
    if days is not None:
        return days
    return _DEFAULT_WAIT.get(_key(country) if isinstance(country, str) else "", 3)


def positive_wait(wait: object) -> int | None:
    """The product's `wait` when it is a whole number of days in 1..365, else None."""
    if isinstance(wait, float) and wait.is_integer():  # is_integer() is False for nan and inf
        wait = int(wait)
    if isinstance(wait, int) and not isinstance(wait, bool) and 0 < wait <= _MAX_WAIT:
        return wait
    return None


def currency_for(payload_currency: object, country: object) -> str:
    """The payload's ISO currency upper-cased; else the destination's currency; else USD."""
    if isinstance(payload_currency, str) and _ISO_CURRENCY.fullmatch(payload_currency.strip()):
        return payload_currency.strip().upper()
    return _CURRENCY_BY_COUNTRY.get(_key(country) if isinstance(country, str) else "", "USD")


def parse_entry_date(raw: object) -> datetime | None:
    """An ISO date (midnight UTC) or datetime (naive read as UTC) as an aware UTC datetime."""
    if not isinstance(raw, str) or not raw.strip():
        return None
    text = raw.strip()
    try:
        if len(text) == 10:
            day = date.fromisoformat(text)
            return datetime(day.year, day.month, day.day, tzinfo=UTC)
        moment = datetime.fromisoformat(text)
        if moment.tzinfo is None:
            return moment.replace(tzinfo=UTC)
        return moment.astimezone(UTC)
    except (ValueError, OverflowError):
        # OverflowError: an offset pushing year 1 or 9999 out of range when converted to UTC.
        return None


def _key(value: str) -> str:
    return re.sub(r"[\s\-]+", "_", value.strip().lower())


def normalise_amount(raw: object) -> Decimal | None:
    """An exact non-negative amount from a number or numeric string; None when missing.

    Raises ValueError (the message completes "order.amount ...") when it is not a usable number.
    """
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        return None
    value: Decimal | None = None
    if isinstance(raw, int) and not isinstance(raw, bool):
        # Range-checked before Decimal() so a hostile many-digit int costs nothing.
        value = (
            Decimal(raw) if abs(raw) < MAX_AMOUNT else Decimal(1 if raw > 0 else -1) * MAX_AMOUNT
        )
    elif isinstance(raw, float):
        value = Decimal(repr(raw))  # repr: the shortest decimal that round-trips, not binary noise
    elif isinstance(raw, str) and len(raw) <= 64:
        try:
            value = Decimal(raw.strip())
        except InvalidOperation:
            value = None
    if value is None or value.is_nan():
        raise ValueError(f"is not a number: {describe(raw)}")
    if value < 0:
        raise ValueError("is negative")
    if value >= MAX_AMOUNT:
        raise ValueError("is too large or not finite")
    return value.copy_abs()  # no "-0"


def clean_text(value: object) -> str | None:
    """Stripped non-empty text; whole numbers count (ids sometimes arrive as numbers)."""
    if isinstance(value, str):
        return value.strip() or None
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) < 10**30:
        return str(value)
    return None


def describe(value: object) -> str:
    """A short rendering for flag messages; containers by kind only (their repr may be huge)."""
    if isinstance(value, str):
        return repr(value[:40] + ("..." if len(value) > 40 else ""))
    if isinstance(value, bool) or value is None:
        return {True: "true", False: "false", None: "null"}[value]
    if isinstance(value, float) or (isinstance(value, int) and abs(value) < 10**30):
        return repr(value)
    return "an object" if isinstance(value, Mapping) else f"a {type(value).__name__}"
