"""The per-request GraphQL context (the bus, read handlers, the caller, this request's
DataLoaders) and the services of the composition root it is built from."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

from graphql import GraphQLError

from app.auth.ports import AccessReads
from app.bus import MessageBus
from app.logs.queries import LogQueries
from app.orders.queries import OrderQueries
from app.queues.queries import QueueQueries
from app.sandbox import SandboxRecords
from app.workflows.queries import WorkflowQueries
from domain.auth.permissions import Principal
from graph.loaders import Loaders


class Services(Protocol):
    """What a request needs from the composition root (the bootstrapped container)."""

    @property
    def bus(self) -> MessageBus: ...

    @property
    def orders(self) -> OrderQueries: ...

    @property
    def access(self) -> AccessReads: ...

    @property
    def sandbox_records(self) -> SandboxRecords: ...

    @property
    def queues(self) -> QueueQueries: ...

    @property
    def logs(self) -> LogQueries: ...

    @property
    def workflows(self) -> WorkflowQueries: ...


@dataclass
class Context:
    bus: MessageBus
    orders: OrderQueries
    correlation_id: str
    max_page_size: int = 100
    # The caller, set by the gate (app.main.gate); None when anonymous.
    principal: Principal | None = None
    access: AccessReads | None = None
    sandbox_records: SandboxRecords | None = None
    queues: QueueQueries | None = None
    logs: LogQueries | None = None
    workflows: WorkflowQueries | None = None
    actor: str | None = None
    request: Any = None
    response: Any = None
    loaders: Loaders = field(init=False)
    # Errors answered beside a field's data, where losing the data would be worse (a rotated
    # key's new secret): GraphQL's partial result. CodedMaskErrors adds them to the response.
    added_errors: list[GraphQLError] = field(default_factory=list)

    def __post_init__(self) -> None:
        if self.principal is not None and self.actor is None:
            self.actor = self.principal.actor
        # Built per request: a DataLoader caches by key, and must never serve one request's
        # rows to another after a write.
        self.loaders = Loaders(self.orders)

    def add_error(self, error: GraphQLError) -> None:
        self.added_errors.append(error)
