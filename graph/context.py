"""The per-request GraphQL context: the services of the composition root, the caller, and this
request's DataLoaders."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from graphql import GraphQLError

from app.auth.ports import AccessReads
from app.bus import MessageBus
from app.logs.queries import LogQueries
from app.orders.queries import OrderQueries
from app.queues.queries import QueueQueries
from app.sandbox import SandboxRecords
from app.services import Services
from app.workflows.queries import WorkflowQueries
from domain.auth.permissions import Principal
from graph.document_refs import DocumentIdentity
from graph.loaders import Loaders


@dataclass
class Context:
    services: Services
    correlation_id: str
    max_page_size: int = 100
    # The caller, set by the gate (rest.gate); None when anonymous.
    principal: Principal | None = None
    actor: str | None = None
    request: Any = None
    response: Any = None
    loaders: Loaders = field(init=False)
    # Errors answered beside a field's data, where losing the data would be worse (a rotated
    # key's new secret): GraphQL's partial result. CodedMaskErrors adds them to the response.
    added_errors: list[GraphQLError] = field(default_factory=list)
    # This request's document (its sha256, its registered id if any), set by graph.persisted
    # at the start of execution: a response cache keys by it, metrics label by it.
    document: DocumentIdentity | None = None
    # This process's subscriptions (graph.live.Subscribers) and open connections
    # (graph.live_socket.Connections); on a WebSocket, its connection_init payload and its
    # registered connection.
    live: Any = None
    connections: Any = None
    connection_params: Any = None
    connection: Any = None

    def __post_init__(self) -> None:
        if self.principal is not None and self.actor is None:
            self.actor = self.principal.actor
        # Built per request: a DataLoader caches by key, and must never serve one request's
        # rows to another after a write.
        self.loaders = Loaders(self.services.orders)

    def fresh_loaders(self) -> None:
        """New loaders: a subscription's context lives as long as its connection, and each
        event must read its children as they are now."""
        self.loaders = Loaders(self.services.orders)

    # The services resolvers use, by name: `ctx.orders.order_page(...)` is the read handler.
    @property
    def bus(self) -> MessageBus:
        return self.services.bus

    @property
    def orders(self) -> OrderQueries:
        return self.services.orders

    @property
    def logs(self) -> LogQueries:
        return self.services.logs

    @property
    def workflows(self) -> WorkflowQueries:
        return self.services.workflows

    @property
    def queues(self) -> QueueQueries:
        return self.services.queues

    @property
    def sandbox_records(self) -> SandboxRecords:
        return self.services.sandbox_records

    @property
    def access(self) -> AccessReads:
        return self.services.access.reads

    def add_error(self, error: GraphQLError) -> None:
        self.added_errors.append(error)
