"""The services object the composition root hands to delivery (GraphQL, REST) and the processes:
the bus for every command, and each feature's read handlers. Every field is required."""

from __future__ import annotations

from dataclasses import dataclass

from app.auth.access import Access
from app.bulk.queries import BulkQueries
from app.bus import MessageBus
from app.documents.queries import DocumentQueries
from app.idempotency import Idempotency, IdempotencyPolicy
from app.logs.queries import LogQueries
from app.orders.queries import OrderQueries
from app.privacy.queries import PrivacyQueries
from app.queues.queries import QueueQueries
from app.sandbox import SandboxRecords
from app.workflows.queries import WorkflowQueries


@dataclass(frozen=True)
class Services:
    bus: MessageBus
    orders: OrderQueries
    logs: LogQueries
    workflows: WorkflowQueries
    queues: QueueQueries
    sandbox_records: SandboxRecords
    access: Access
    documents: DocumentQueries
    bulk: BulkQueries
    privacy: PrivacyQueries
    # HTTP-level idempotency of the webhooks (X-Idempotency-Key), beside the bus's own.
    idempotency: Idempotency
    idempotency_policy: IdempotencyPolicy
