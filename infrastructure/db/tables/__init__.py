"""Core tables for every table in DOMAIN.md "Data": one schema for SQLite and PostgreSQL."""

from infrastructure.db.tables.access import api_keys, users
from infrastructure.db.tables.base import metadata
from infrastructure.db.tables.bulk import bulk_operation_orders, bulk_operations
from infrastructure.db.tables.documents import persisted_documents
from infrastructure.db.tables.messaging import (
    contact_syncs,
    delivery_events,
    message_templates,
    notifications,
    sandbox_messages,
    translations,
)
from infrastructure.db.tables.operations import (
    events,
    failed_jobs,
    idempotency_keys,
    logs,
    outbox,
    schedule_ticks,
)
from infrastructure.db.tables.orders import orders, webhook_payloads
from infrastructure.db.tables.workflows import workflow_runs, workflows

__all__ = [
    "api_keys",
    "bulk_operation_orders",
    "bulk_operations",
    "contact_syncs",
    "delivery_events",
    "events",
    "failed_jobs",
    "idempotency_keys",
    "logs",
    "message_templates",
    "metadata",
    "notifications",
    "orders",
    "outbox",
    "persisted_documents",
    "sandbox_messages",
    "schedule_ticks",
    "translations",
    "users",
    "webhook_payloads",
    "workflow_runs",
    "workflows",
]
