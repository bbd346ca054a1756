"""The per-request GraphQL context: the bus, read handlers and this request's DataLoaders."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from app.bus import MessageBus
from app.orders.queries import OrderQueries
from graph.loaders import Loaders


@dataclass
class Context:
    bus: MessageBus
    orders: OrderQueries
    correlation_id: str
    max_page_size: int = 100
    actor: str | None = None
    request: Any = None
    response: Any = None
    loaders: Loaders = field(init=False)

    def __post_init__(self) -> None:
        # Built per request: a DataLoader caches by key, and must never serve one request's
        # rows to another after a write.
        self.loaders = Loaders(self.orders)
