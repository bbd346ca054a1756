"""CRM custom fields: the types the CBB API knows and one field value as it is sent.

The declarative field map (which order value goes to which vendor field, and how it renders)
lives beside these types; adapters only ever see `CustomField` values already rendered.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum


class FieldType(IntEnum):
    """CBB field types (reference digest §3.4)."""

    TEXT = 0
    NUMBER = 1
    DATE = 2  # unix seconds
    DATETIME = 3  # unix seconds
    BOOLEAN = 4  # "1" / "0"
    LONG_TEXT = 5
    SELECT = 6
    MULTI_SELECT = 7


@dataclass(frozen=True)
class CustomField:
    """One custom field value, rendered as the vendor expects it (always a string)."""

    name: str
    field_id: int
    type: FieldType
    value: str
