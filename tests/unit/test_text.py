"""NUL characters in storefront bodies: replaced in every key and string, nothing else touched."""

from __future__ import annotations

from typing import Any

import pytest

from domain.orders.text import without_nul


@pytest.mark.parametrize(
    ("raw", "stored"),
    [
        ("Avi\x00Cohen", "Avi\ufffdCohen"),
        (
            {"a\x00": ["x\x00", 1, None, {"k": "\x00"}]},
            {"a\ufffd": ["x\ufffd", 1, None, {"k": "\ufffd"}]},
        ),
        ({"clean": ["text", 2.5, True]}, {"clean": ["text", 2.5, True]}),
        (7, 7),
        ("", ""),
    ],
)
def test_nul_is_replaced_everywhere(raw: Any, stored: Any) -> None:
    assert without_nul(raw) == stored


def test_a_clean_body_is_returned_as_is() -> None:
    body = {"order": {"id": "IL1"}, "form": {"items": ["a", "b"]}}
    assert without_nul(body) is body
