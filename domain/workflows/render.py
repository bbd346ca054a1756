"""`{{dot.path}}` placeholders: filled from the run context, recursively through lists and dicts.

A placeholder whose path is not in the context is left as written (the reference's rule), so
a step shows what it could not fill instead of sending an empty string. A string that is one
placeholder alone takes the value itself (a number, a list), so structured data passes through.
A pdf.generate template is HTML: the values put into it are escaped, so that a customer's name
such as `<img src="file:///etc/passwd">` prints as text instead of becoming markup.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable, Mapping, Sequence
from typing import Any

PLACEHOLDER = re.compile(r"\{\{\s*([A-Za-z0-9_]+(?:\.[A-Za-z0-9_-]+)*)\s*\}\}")
_OPEN = re.compile(r"\{\{")
_MISSING = object()


def lookup(context: Any, path: str) -> Any:
    """The value at `a.b.0` (dict keys, list indexes); `_MISSING` when absent."""
    value = context
    for part in path.split("."):
        if isinstance(value, Mapping) and part in value:
            value = value[part]
        elif isinstance(value, Sequence) and not isinstance(value, str) and part.isdigit():
            index = int(part)
            if index >= len(value):
                return _MISSING
            value = value[index]
        else:
            return _MISSING
    return value


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return "" if value is None else str(value)


def render(
    value: Any, context: Mapping[str, Any], escape: Callable[[str], str] | None = None
) -> Any:
    """`value` with every known placeholder replaced, in strings at any depth.

    With `escape`, every filled value is passed through it as text (a lone placeholder too:
    markup must not keep a value's type and skip the escaping).
    """
    if isinstance(value, str):
        whole = PLACEHOLDER.fullmatch(value.strip())
        if whole is not None and escape is None:
            found = lookup(context, whole.group(1))
            return value if found is _MISSING else found

        def replace(match: re.Match[str]) -> str:
            found = lookup(context, match.group(1))
            if found is _MISSING:
                return match.group(0)
            return escape(_text(found)) if escape else _text(found)

        return PLACEHOLDER.sub(replace, value)
    if isinstance(value, Mapping):
        return {k: render(v, context, escape) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [render(v, context, escape) for v in value]
    return value


def _html(text: str) -> str:
    return html.escape(text, quote=True)


# Config fields that are markup, by step type; every other field is plain text with the
# step's own checks (a channel, an address, a message Slack and email show as they are).
_MARKUP_FIELDS: dict[str, frozenset[str]] = {"pdf.generate": frozenset({"template"})}


def render_config(step_type: str, config: Mapping[str, Any], context: Mapping[str, Any]) -> Any:
    """A step's config filled from the run context, values escaped where the field is HTML."""
    markup = _MARKUP_FIELDS.get(step_type, frozenset())
    return {
        key: render(value, context, _html if key in markup else None)
        for key, value in config.items()
    }


def has_placeholder(text: str) -> bool:
    return PLACEHOLDER.search(text) is not None


def malformed_placeholder(text: str) -> str | None:
    """The first `{{` that does not open a well-formed placeholder, with what follows it."""
    for match in _OPEN.finditer(text):
        if PLACEHOLDER.match(text, match.start()) is None:
            return text[match.start() : match.start() + 30]
    return None
