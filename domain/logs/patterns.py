"""The PII and secret patterns of log redaction, each one linear in the length of the text.

Python's `re` backtracks, so a pattern that may start anywhere inside a long run of the
characters it accepts and then fails rescans the run from every position: 80 KB of `a.` took
13.5 s through the old email pattern. Here every pattern either starts at a literal that is
rare in text (`eyJ`, `token`, `://`) or is anchored by a lookbehind refusing to start inside
a run of its own first characters, and every repetition is bounded, so a failed attempt costs
at most a few hundred steps and each position is tried once. Each rule also names the cheap
substrings without which it cannot match, and is skipped when none is in the text.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

EMAIL = "[EMAIL]"
PHONE = "[PHONE]"
CARD = "[CARD]"
TOKEN = "[TOKEN]"
SECRET = "[SECRET]"
ID = "[ID]"

# Not inside a longer word, number, id or uuid: no letter, digit, `_`, `-`, `.` or `+` around.
START = r"(?<![\w.+-])"
END = r"(?![\w-]|\.\w)"
DIGITS = ("0", "1", "2", "3", "4", "5", "6", "7", "8", "9")

Replacement = str | Callable[[re.Match[str]], str]


@dataclass(frozen=True, slots=True)
class Rule:
    pattern: re.Pattern[str]
    replacement: Replacement
    needles: tuple[str, ...]  # lower-case; the rule runs only if one is in the lowered text


def luhn_valid(digits: str) -> bool:
    total = 0
    for i, char in enumerate(reversed(digits)):
        d = ord(char) - 48
        if i % 2:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


def israeli_id_valid(digits: str) -> bool:
    """Teudat zehut check digit: weights 1,2,1,2… from the left, digit sums of the products."""
    if len(digits) != 9:
        return False
    total = 0
    for i, char in enumerate(digits):
        d = (ord(char) - 48) * (i % 2 + 1)
        total += d - 9 if d > 9 else d
    return total % 10 == 0


def _digits(text: str) -> str:
    return "".join(c for c in text if c.isdigit())


def _card(match: re.Match[str]) -> str:
    digits = _digits(match.group())
    return CARD if 13 <= len(digits) <= 19 and luhn_valid(digits) else match.group()


def _israeli_id(match: re.Match[str]) -> str:
    return ID if israeli_id_valid(_digits(match.group())) else match.group()


_TOKEN_CHARS = r"[A-Za-z0-9._~+/=-]"
# Checked first: a URL's password, then whole secrets, so that no later pattern sees half.
_SECRETS = [
    # scheme://user:password@host: the password goes, the user and host stay.
    Rule(
        re.compile(
            r"(?<![A-Za-z0-9+.-])([A-Za-z][A-Za-z0-9+.-]{0,30}://[^\s:/@?#]{0,256}:)"
            r"[^\s@/?#]{1,256}@"
        ),
        rf"\1{SECRET}@",
        ("://",),
    ),
    Rule(
        re.compile(
            r"(?i)(https?://hooks\.slack\.com/(?:services|workflows|triggers)/)[\w/-]{1,512}"
        ),
        rf"\1{SECRET}",
        ("hooks.slack.com",),
    ),
    # Vendors' keys, recognisable by their prefixes: Stripe, GitHub, Slack, AWS, Google.
    Rule(
        re.compile(
            r"(?<![\w-])(?:[sr]k_(?:live|test)_[A-Za-z0-9]{8,256}|gh[pousr]_[A-Za-z0-9]{20,255}"
            r"|github_pat_\w{20,255}|xox[abposre]-[A-Za-z0-9-]{8,255}|whsec_[A-Za-z0-9]{16,256}"
            r"|AKIA[0-9A-Z]{16}|AIza[\w-]{35})(?![\w-])"
        ),
        TOKEN,
        ("k_live_", "k_test_", "gh", "github_pat_", "xox", "whsec_", "akia", "aiza"),
    ),
    Rule(re.compile(r"(?<![\w-])eyJ[\w-]{5,4096}\.[\w-]{5,4096}\.[\w-]{0,4096}"), TOKEN, ("eyj",)),
    Rule(
        re.compile(rf"(?i)\b(bearer)(\s{{1,16}}){_TOKEN_CHARS}{{8,4096}}"),
        rf"\1\2{TOKEN}",
        ("bearer",),
    ),
    # Basic credentials are base64: a digit, `+`, `/` or `=` tells them from `basic subscription`.
    Rule(
        re.compile(
            r"(?i)\b(basic)(\s{1,16})(?=[A-Za-z0-9+/]{0,255}[\d+/=])[A-Za-z0-9+/]{8,4096}={0,2}"
        ),
        rf"\1\2{TOKEN}",
        ("basic",),
    ),
    # `token abc123…`: a word after `token` holding a digit is a value, `token expired` is not.
    Rule(
        re.compile(
            rf"(?i)\b(token)(\s{{1,16}})(?={_TOKEN_CHARS}{{0,255}}\d){_TOKEN_CHARS}{{8,4096}}"
        ),
        rf"\1\2{TOKEN}",
        ("token",),
    ),
    # `token=…`, `password: …` and the like inside free text.
    Rule(
        re.compile(
            r"(?i)\b((?:access_|refresh_|api_|id_)?token|secret|password|passwd|api[_-]?key)"
            r"(\s{0,16}[:=]\s{0,16})[^\s,;&\"']{4,4096}"
        ),
        rf"\1\2{SECRET}",
        ("token", "secret", "passw", "api"),
    ),
    # Our keys (`vk_` + 16 hex `.` 64 hex) and the reference's longer prefixes: keep the public
    # prefix (operators search by it), drop the secret.
    Rule(
        re.compile(
            r"\b(vk_[A-Za-z0-9_]{4,29}(?:\.[A-Za-z0-9_-]{1,16}){0,4})\.[A-Za-z0-9_-]{16,256}\b"
        ),
        rf"\1.{SECRET}",
        ("vk_",),
    ),
]
# Local part (plain or quoted), `@` or its URL encoding `%40`, then a domain whose labels may be
# any script (`例え.jp`) and whose last label is letters or punycode.
_EMAIL = re.compile(
    r"(?:(?<![\w.%+-])[\w.%+-]{1,64}|\"[^\"\\\s@]{1,64}\")(?:@|%40)"
    r"(?:[\w-]{1,63}\.){1,8}(?:[^\W\d_]{2,24}|[xX][nN]--[a-zA-Z0-9-]{1,59})(?![\w-])"
)
_SEP = r"[ .-]"
# Card numbers, 13-19 digits, first digit 2-6 (the networks; timestamps and counters start
# with 1): plain, or in groups of four (amex 4-6-5) with one separator used throughout.
_CARD = re.compile(
    START
    + r"(?:[2-6]\d{12,18}|[2-6]\d{3}(?P<s>[.-]| {1,2})\d{4}(?P=s)\d{4}(?P=s)\d{1,7}"
    + r"|3[47]\d{2}(?P<a>[.-]| {1,2})\d{6}(?P=a)\d{5})"
    + END
)
_STRONG_NUMBERS = [
    Rule(_CARD, _card, DIGITS),
    # Israel: +972 / 00972, optional (0), 8-9 digits; spaces, dashes or dots anywhere.
    Rule(
        re.compile(START + rf"(?:\+|00)972{_SEP}?(?:\(0\){_SEP}?)?[1-9](?:{_SEP}?\d){{7,8}}" + END),
        PHONE,
        ("972",),
    ),
    # 972 without a plus: no dots, so that an amount such as 972501234.56 stays.
    Rule(
        re.compile(START + r"972[ -]?(?:\(0\)[ -]?)?[1-9](?:[ -]?\d){7,8}" + END),
        PHONE,
        ("972",),
    ),
    # Israel, national: 05x-xxx-xxxx (mobile), 0[2-9]-xxx-xxxx and 07x (landline, VoIP).
    Rule(
        re.compile(
            START
            + r"0(?:(?:5\d|7\d|[2-4689])(?:[ -]?\d){7}|(?:5\d|7\d|[2-4689])\.\d{3}\.\d{4})"
            + END
        ),
        PHONE,
        ("0",),
    ),
    # Any other international number in E.164 with its plus: 8-15 digits.
    Rule(re.compile(START + rf"\+[1-9](?:{_SEP}?\(?\d\)?){{7,14}}" + END), PHONE, ("+",)),
    # North American style: (212) 555-0100, 212-555-0100, 212.555.0100.
    Rule(re.compile(START + r"(?:\(\d{3}\)\s?|\d{3}[-.])\d{3}[-.]\d{4}" + END), PHONE, DIGITS),
]
# Only in free text or under phone- and id-like keys: alone, these are as likely an amount,
# a count or an id. An Israeli mobile without its 0 (50-724-7157), and a teudat zehut.
WEAK_NUMBERS = [
    Rule(re.compile(START + r"5\d(?:(?:[ -]?\d){7}|\.\d{3}\.\d{4})" + END), PHONE, ("5",)),
    Rule(re.compile(START + r"\d{8}-?\d" + END), _israeli_id, DIGITS),
]
STRONG = [*_SECRETS, Rule(_EMAIL, EMAIL, ("@", "%40")), *_STRONG_NUMBERS]


def apply_rules(text: str, rules: list[Rule]) -> str:
    """`text` through each rule whose needles it contains, in order."""
    lowered = text.lower()
    for rule in rules:
        if any(needle in lowered for needle in rule.needles):
            text = rule.pattern.sub(rule.replacement, text)
            lowered = text.lower()
    return text
