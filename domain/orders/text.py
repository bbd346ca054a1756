"""Text no store refuses: NUL characters replaced throughout a storefront body.

PostgreSQL refuses U+0000 in text and JSONB (SQLite takes it), so a body carrying one would
fail at the insert, a 500 for input that is merely odd. The character never means anything in
an order, so it becomes U+FFFD (visibly a replacement) in every key and string, before the body
is archived or normalised; both dialects then store the same thing.
"""

from __future__ import annotations

from typing import Any

NUL = "\x00"
REPLACEMENT = "\ufffd"


def without_nul(value: Any) -> Any:
    """`value` with every NUL of its strings and keys replaced; the same object when none."""
    if isinstance(value, str):
        return value.replace(NUL, REPLACEMENT) if NUL in value else value
    if isinstance(value, dict):
        if not _has_nul(value):
            return value
        return {without_nul(k): without_nul(v) for k, v in value.items()}
    if isinstance(value, list):
        if not _has_nul(value):
            return value
        return [without_nul(v) for v in value]
    return value


def _has_nul(value: Any) -> bool:
    if isinstance(value, str):
        return NUL in value
    if isinstance(value, dict):
        return any(_has_nul(k) or _has_nul(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_has_nul(v) for v in value)
    return False
