"""The per-request GraphQL context: the bus, read handlers and this request's DataLoaders."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from app.auth.ports import AccessReads
from app.bus import MessageBus
from app.orders.queries import OrderQueries
from domain.auth.permissions import Principal
from graph.loaders import Loaders


@dataclass
class Context:
    bus: MessageBus
    orders: OrderQueries
    correlation_id: str
    max_page_size: int = 100
    # The caller, set by the gate (app.main.gate); None when anonymous.
    principal: Principal | None = None
    access: AccessReads | None = None
    actor: str | None = None
    request: Any = None
    response: Any = None
    loaders: Loaders = field(init=False)

    def __post_init__(self) -> None:
        if self.principal is not None and self.actor is None:
            self.actor = self.principal.actor
        # Built per request: a DataLoader caches by key, and must never serve one request's
        # rows to another after a write.
        self.loaders = Loaders(self.orders)
