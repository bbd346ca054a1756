"""Shared pieces of the handler unit tests: a fixed clock, ids, and orders stored in a fake."""

from __future__ import annotations

import json
import uuid
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from uuid import UUID

from domain.orders.intake import order_from_body
from domain.orders.model import Order
from tests.fakes import FakeStore

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "vizi-orders"
T0 = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)


class Clock:
    """Time that moves only when a test says so."""

    def __init__(self, at: datetime = T0) -> None:
        self.at = at

    def __call__(self) -> datetime:
        return self.at

    def advance(self, seconds: float) -> None:
        self.at += timedelta(seconds=seconds)


def body(name: str = "il-uk-eta.json") -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((FIXTURES / name).read_text())
    return loaded


def order(name: str = "il-uk-eta.json", **changes: Any) -> Order:
    """The fixture's order as intake builds it, with `changes` applied."""
    built = order_from_body(body(name), id=uuid.uuid4(), now=T0)
    return replace(built, **changes)


def stored(store: FakeStore, name: str = "il-uk-eta.json", **changes: Any) -> Order:
    """An order already committed, as a previous intake left it."""
    kept = order(name, **changes)
    store.orders[kept.id] = kept
    return kept


def new_ids() -> Any:
    """Deterministic ids: uuid 1, 2, 3, ... (so a test can name the one a handler took)."""
    counter = iter(range(1, 1_000_000))
    return lambda: UUID(int=next(counter))
