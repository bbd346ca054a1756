"""Where a person's data lives: the export's reads, and the erasure's writes per order."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol
from uuid import UUID

ERASED = "[erased]"  # what replaces a personal value that must stay non-null


@dataclass(frozen=True)
class Person:
    """Who, by the email or the (normalised) phone their orders carry."""

    email: str | None = None
    phone: str | None = None


class PersonalData(Protocol):
    """The query side: every row about a person, as JSON-ready dicts."""

    async def export(self, person: Person) -> dict[str, list[dict[str, Any]]]: ...


class Erasure(Protocol):
    """On a unit of work's connection: one batch of a person's orders erased."""

    async def erase(self, order_ids: Sequence[UUID], reason: str) -> int:
        """Replace the personal data of these orders and everything hanging from them
        (archived bodies, notifications, contact syncs, vendor records, delivery reports)
        with markers, keeping ids, amounts and dates; fail their unsent messages with
        `reason`. The number of orders erased."""
        ...
