"""Hypothesis strategies shared by the fuzz tests: hostile JSON, valid documents mutated at random
paths, and bodies that are not JSON at all."""

from __future__ import annotations

import copy
import json
import re
from pathlib import Path
from typing import Any

from hypothesis import strategies as st

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "vizi-orders"
ORDER_FIXTURES = [json.loads(p.read_text()) for p in sorted(FIXTURES.glob("*.json"))]

# Strings that have broken parsers, databases and encoders before: NUL (PostgreSQL text refuses
# it), lone surrogates (not encodable as UTF-8), huge numbers as text, SQL and template syntax.
NASTY = [
    "",
    " ",
    "\x00",
    "a\x00b",
    "\ud800",
    "x\udfffy",
    "\ufeff",
    "\u202e",
    "💥" * 40,
    "9" * 400,
    "-1e400",
    "1e-400",
    "NaN",
    "Infinity",
    "0x1F",
    "null",
    "true",
    "'; DROP TABLE orders; --",
    "%s%s%n",
    "{{order.id}}",
    "{{ __import__('os') }}",
    "${jndi:ldap://x}",
    "../../etc/passwd",
    "2026-02-30T25:61:00Z",
    "0001-01-01T00:00:00+14:00",
    "9999-12-31T23:59:59Z",
    "+972" + "5" * 60,
    "a" * 5000,
    "\n\r\t\x0b\x0c",
]
HUGE_INTEGERS = [2**63, -(2**63) - 1, 2**64, 10**40, -(10**40)]

text = st.one_of(st.sampled_from(NASTY), st.text(max_size=30))
scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.sampled_from(HUGE_INTEGERS),
    st.floats(allow_nan=False, allow_infinity=False),
    text,
)
json_values = st.recursive(
    scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=12), inner, max_size=4)
    ),
    max_leaves=10,
)


def paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every path into a JSON document (the root included)."""
    found = [prefix]
    if isinstance(value, dict):
        for k, v in value.items():
            found += paths(v, (*prefix, k))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            found += paths(v, (*prefix, i))
    return found


@st.composite
def mutated(draw: st.DrawFn, documents: list[Any], max_changes: int = 3) -> Any:
    """One of `documents` with 1..max_changes values replaced, deleted or added at random paths."""
    doc = copy.deepcopy(draw(st.sampled_from(documents)))
    for _ in range(draw(st.integers(1, max_changes))):
        path = draw(st.sampled_from(paths(doc)))
        if not path:
            doc = draw(json_values)
            continue
        parent: Any = doc
        for part in path[:-1]:
            parent = parent[part]
        action = draw(st.sampled_from(["replace", "replace", "delete", "add"]))
        if action == "replace":
            parent[path[-1]] = draw(json_values)
        elif action == "delete":
            del parent[path[-1]]
        elif isinstance(parent, dict):
            parent[draw(st.text(max_size=12))] = draw(json_values)
        else:
            parent.append(draw(json_values))
    return doc


@st.composite
def orders(draw: st.DrawFn) -> Any:
    """A mutated order body; half of them under a fresh order id, so that they reach
    normalisation and the insert instead of being answered as duplicates of the fixture."""
    body = draw(mutated(ORDER_FIXTURES))
    inner = body.get("order") if isinstance(body, dict) else None
    if isinstance(inner, dict) and draw(st.booleans()):
        inner["id"] = f"IL{draw(st.uuids()).hex[:10].upper()}"
    return body


# JSON turned into GraphQL input literals, to reach the literal parsing paths too.
_ENUM = re.compile(r"^[A-Z_][A-Z0-9_]*$")


def literal(value: Any) -> str:
    """`value` as a GraphQL input literal (upper-case identifiers become enum values)."""
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}: {literal(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list):
        return "[" + ", ".join(literal(v) for v in value) + "]"
    if isinstance(value, str) and _ENUM.match(value) and value not in ("TRUE", "FALSE", "NULL"):
        return value
    return json.dumps(value)


def _name(key: str) -> str:
    """A JSON object key made into a GraphQL name (a literal's field names must be names)."""
    cleaned = re.sub(r"\W", "_", key, flags=re.ASCII)
    return cleaned if cleaned and not cleaned[0].isdigit() else f"f{cleaned}"


def names_only(value: Any) -> Any:
    if isinstance(value, dict):
        return {_name(k): names_only(v) for k, v in value.items()}
    if isinstance(value, list):
        return [names_only(v) for v in value]
    return value


def encode(value: Any, ascii_only: bool) -> bytes:
    """JSON text of `value`; lone surrogates become invalid UTF-8 rather than an encoder error."""
    return json.dumps(value, ensure_ascii=ascii_only).encode("utf-8", "surrogatepass")


BROKEN_JSON = [
    b"",
    b"{",
    b"}",
    b"[1,",
    b'{"order": }',
    b"{'order': 1}",
    b'{"a": NaN}',
    b'{"a": Infinity}',
    b'{"a": 1e999999}',
    b'{"a": 123456789012345678901234567890}',
    b'{"a": "\\ud800"}',
    b'{"a": "\\u0000"}',
    b"\xff\xfe{}",
    b"\xef\xbb\xbf{}",
    b'{"a": 1}{"b": 2}',
    b"null",
    b"[]",
    b"0",
    b'"order"',
    b"[" * 5000 + b"]" * 5000,
    b'{"a":' * 3000 + b"1" + b"}" * 3000,
]


@st.composite
def raw_bodies(draw: st.DrawFn, documents: list[Any] | st.SearchStrategy[Any]) -> bytes:
    """A body: a mutated document, any JSON value, known-broken JSON, or random bytes."""
    kind = draw(st.sampled_from(["mutated", "mutated", "mutated", "value", "broken", "bytes"]))
    if kind == "mutated":
        strategy = documents if isinstance(documents, st.SearchStrategy) else mutated(documents)
        return encode(draw(strategy), draw(st.booleans()))
    if kind == "value":
        return encode(draw(json_values), draw(st.booleans()))
    if kind == "broken":
        return draw(st.sampled_from(BROKEN_JSON))
    return draw(st.binary(max_size=200))


# Bytes: the client would refuse to encode some of these as text, a raw HTTP client would not.
header_values = st.one_of(
    st.sampled_from([b"", b" ", b"x" * 129, b"x" * 5000, b"k\x7f", "ключ".encode(), b"a b", b"\t"]),
    st.text(st.characters(min_codepoint=0x20, max_codepoint=0x7E), max_size=140).map(str.encode),
    st.binary(max_size=40).filter(lambda b: b"\n" not in b and b"\r" not in b),
)
# Mostly with the admin key, so most inputs get past authentication to the code behind it.
AUTHENTICATED = st.sampled_from([True] * 9 + [False])
