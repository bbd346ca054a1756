"""Initial schema: every table, constraint and index of infrastructure/db/tables.py.

Revision ID: 0001 (no parent). Types and names are spelled out here rather than imported, so this
revision keeps describing the schema it created after tables.py moves on. Indexes sit inside
``create_table`` (Alembic emits CREATE INDEX for them); ``drop_table`` takes them along.
"""

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JSON = sa.JSON().with_variant(JSONB(), "postgresql")
TIMESTAMP = sa.DateTime(timezone=True)
# Money: exact numeric(12,2) on PostgreSQL, integer cents on SQLite (infrastructure.db.types.Money).
MONEY = sa.Numeric(12, 2).with_variant(sa.BigInteger(), "sqlite")

TABLES = (  # noqa: SIM905 - creation order, parents first; the downgrade walks it backwards
    "orders webhook_payloads contact_syncs message_templates translations notifications"
    " delivery_events api_keys users workflows workflow_runs schedule_ticks logs events outbox"
    " failed_jobs"
).split()


def _table(name: str, *elements: sa.schema.SchemaItem) -> None:
    """Create a table with the uuid primary key every table has, plus its columns and indexes."""
    primary_key = sa.PrimaryKeyConstraint("id", name=f"pk_{name}")
    op.create_table(name, sa.Column("id", sa.Uuid(), nullable=False), *elements, primary_key)


def _now(name: str) -> sa.Column[Any]:
    return sa.Column(name, TIMESTAMP, nullable=False, server_default=sa.func.now())


def _timestamps() -> tuple[sa.Column[Any], sa.Column[Any]]:
    return _now("created_at"), _now("updated_at")


def _cascade(table: str, column: str, parent: str) -> sa.ForeignKeyConstraint:
    name = f"fk_{table}_{column}_{parent}"
    return sa.ForeignKeyConstraint([column], [f"{parent}.id"], name=name, ondelete="CASCADE")


def _partial(name: str, column: str, postgresql: str, sqlite: str | None = None) -> sa.Index:
    # Booleans are 0/1 on SQLite, and tables.py words its predicates so: hence a WHERE of its own.
    where = sa.text(postgresql), sa.text(sqlite or postgresql)
    return sa.Index(name, column, postgresql_where=where[0], sqlite_where=where[1])


def upgrade() -> None:
    _table(
        "orders",
        sa.Column("order_id", sa.String(64), nullable=False),
        sa.Column("form_id", sa.String(64)),
        sa.Column("branch", sa.String(8), nullable=False),
        sa.Column("domain", sa.String(255)),
        sa.Column("payment_processor", sa.String(32)),
        sa.Column("payment_id", sa.String(255)),
        sa.Column("amount", MONEY, nullable=False),
        sa.Column("currency", sa.String(8), nullable=False),
        sa.Column("order_status", sa.String(16), nullable=False),
        sa.Column("client_name", sa.String(255), nullable=False),
        sa.Column("client_email", sa.String(320)),
        sa.Column("client_phone", sa.String(32)),
        sa.Column("phone_valid", sa.Boolean(), nullable=False),
        sa.Column("whatsapp_alerts_enabled", sa.Boolean(), nullable=False),
        sa.Column("product_country", sa.String(64), nullable=False),
        sa.Column("product_doc_type", sa.String(64)),
        sa.Column("product_doc_name", sa.String(128)),
        sa.Column("product_intent", sa.String(64)),
        sa.Column("visa_entries", sa.String(32)),
        sa.Column("product_validity", sa.String(32)),
        sa.Column("visa_document_validity_days", sa.Integer()),
        sa.Column("processing_days", sa.Integer(), nullable=False),
        sa.Column("is_urgent", sa.Boolean(), nullable=False),
        sa.Column("visa_quantity", sa.Integer(), nullable=False),
        sa.Column("entry_date", TIMESTAMP),
        sa.Column("product_data", JSON, nullable=False),
        sa.Column("applicants_data", JSON, nullable=False),
        sa.Column("extra_data", JSON, nullable=False),
        sa.Column("flags", JSON, nullable=False),
        sa.Column("webhook_received_at", TIMESTAMP, nullable=False),
        sa.Column("processed_at", TIMESTAMP),
        *_timestamps(),
        sa.UniqueConstraint("order_id", name="uq_orders_order_id"),
        sa.Index("ix_orders_created_at_id", "created_at", "id"),
        sa.Index("ix_orders_branch_created_at", "branch", "created_at"),
        sa.Index("ix_orders_order_status", "order_status"),
        sa.Index("ix_orders_product_country", "product_country"),
        sa.Index("ix_orders_client_email", "client_email"),
        sa.Index("ix_orders_client_phone", "client_phone"),
        _partial("ix_orders_unprocessed", "created_at", "processed_at IS NULL"),
    )
    _table(
        "webhook_payloads",
        sa.Column("source", sa.String(32), nullable=False),
        sa.Column("external_order_id", sa.String(128)),
        sa.Column("idempotency_key", sa.String(255)),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("error", sa.Text()),
        sa.Column("order_uuid", sa.Uuid()),
        sa.Column("body", JSON, nullable=False),
        _now("received_at"),
        sa.Index("ix_webhook_payloads_received_at", "received_at"),
        sa.Index("ix_webhook_payloads_external_order_id", "external_order_id"),
    )
    _table(
        "contact_syncs",
        sa.Column("order_uuid", sa.Uuid(), nullable=False),
        sa.Column("language", sa.String(8), nullable=False),
        sa.Column("translated_fields", JSON, nullable=False),
        sa.Column("synced", sa.Boolean(), nullable=False, server_default=sa.text("false")),
        sa.Column("contact_id", sa.String(128)),
        sa.Column("created", sa.Boolean()),
        sa.Column("attempts", sa.Integer(), nullable=False, server_default=sa.text("0")),
        sa.Column("error_count", sa.Integer(), nullable=False, server_default=sa.text("0")),
        sa.Column("last_error_category", sa.String(32)),
        sa.Column("last_error", sa.Text()),
        sa.Column("last_attempt_at", TIMESTAMP),
        *_timestamps(),
        _cascade("contact_syncs", "order_uuid", "orders"),
        sa.UniqueConstraint("order_uuid", name="uq_contact_syncs_order_uuid"),
        _partial("ix_contact_syncs_pending", "created_at", "synced = false", "synced = 0"),
    )
    _table(
        "message_templates",
        sa.Column("name", sa.String(128), nullable=False),
        sa.Column("language", sa.String(8), nullable=False),
        sa.Column("parameters", JSON, nullable=False),
        sa.Column("body_preview", sa.Text(), nullable=False),
        sa.Column("category", sa.String(32), nullable=False),
        *_timestamps(),
        sa.UniqueConstraint("name", "language", name="uq_message_templates_name_language"),
    )
    _table(
        "translations",
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("key", sa.String(128), nullable=False),
        sa.Column("language", sa.String(8), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        *_timestamps(),
        sa.UniqueConstraint("kind", "key", "language", name="uq_translations_kind_key_language"),
    )
    _table(
        "notifications",
        sa.Column("order_uuid", sa.Uuid(), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("item", sa.String(128), nullable=False, server_default=""),
        sa.Column("template", sa.String(128), nullable=False),
        sa.Column("language", sa.String(8), nullable=False),
        sa.Column("params", JSON, nullable=False),
        sa.Column("phone", sa.String(32), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("claimed_at", TIMESTAMP),
        sa.Column("provider_message_id", sa.String(128)),
        sa.Column("sent_at", TIMESTAMP),
        sa.Column("delivered_at", TIMESTAMP),
        sa.Column("read_at", TIMESTAMP),
        sa.Column("failed_at", TIMESTAMP),
        sa.Column("failure_reason", sa.Text()),
        sa.Column("attempts", sa.Integer(), nullable=False, server_default=sa.text("0")),
        *_timestamps(),
        _cascade("notifications", "order_uuid", "orders"),
        sa.UniqueConstraint(
            "order_uuid", "kind", "item", name="uq_notifications_order_uuid_kind_item"
        ),
        sa.Index("ix_notifications_provider_message_id", "provider_message_id"),
        sa.Index("ix_notifications_phone_sent_at", "phone", "sent_at"),
        _partial("ix_notifications_pending", "created_at", "status IN ('queued', 'pending')"),
    )
    _table(
        "delivery_events",
        sa.Column("payload", JSON, nullable=False),
        sa.Column("signature_verified", sa.Boolean(), nullable=False),
        sa.Column("event_type", sa.String(32)),
        sa.Column("provider_message_id", sa.String(128)),
        sa.Column("phone", sa.String(32)),
        sa.Column("processing_status", sa.String(16), nullable=False),
        _now("received_at"),
        sa.Index("ix_delivery_events_provider_message_id", "provider_message_id"),
    )
    _table(
        "api_keys",
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("prefix", sa.String(32), nullable=False),
        sa.Column("hashed_secret", sa.String(255), nullable=False),
        sa.Column("scopes", JSON, nullable=False),
        sa.Column("expires_at", TIMESTAMP),
        sa.Column("created_by", sa.String(255)),
        sa.Column("last_used_at", TIMESTAMP),
        sa.Column("revoked_at", TIMESTAMP),
        *_timestamps(),
        sa.UniqueConstraint("prefix", name="uq_api_keys_prefix"),
    )
    _table(
        "users",
        sa.Column("email", sa.String(320), nullable=False),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("external_subject", sa.String(255)),
        *_timestamps(),
        sa.UniqueConstraint("email", name="uq_users_email"),
        sa.UniqueConstraint("external_subject", name="uq_users_external_subject"),
    )
    _table(
        "workflows",
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("description", sa.String(500)),
        sa.Column("definition", JSON, nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False, server_default=sa.text("true")),
        *_timestamps(),
        _partial("ix_workflows_enabled", "name", "enabled = true", "enabled = 1"),
    )
    _table(
        "workflow_runs",
        sa.Column("workflow_id", sa.Uuid(), nullable=False),
        sa.Column("trigger_type", sa.String(16), nullable=False),
        sa.Column("trigger_key", sa.String(255)),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("context", JSON, nullable=False),
        sa.Column("steps", JSON, nullable=False),
        sa.Column("started_at", TIMESTAMP),
        sa.Column("finished_at", TIMESTAMP),
        *_timestamps(),
        _cascade("workflow_runs", "workflow_id", "workflows"),
        sa.Index("ix_workflow_runs_workflow_id_created_at", "workflow_id", "created_at"),
        sa.Index("ix_workflow_runs_status", "status"),
    )
    _table(
        "schedule_ticks",
        sa.Column("job_name", sa.String(128), nullable=False),
        sa.Column("tick_at", TIMESTAMP, nullable=False),
        sa.Column("claimed_by", sa.String(128), nullable=False),
        _now("claimed_at"),
        sa.UniqueConstraint("job_name", "tick_at", name="uq_schedule_ticks_job_name_tick_at"),
    )
    _table(
        "logs",
        sa.Column("level", sa.String(16), nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("metadata", JSON, nullable=False),
        sa.Column("correlation_id", sa.String(64)),
        sa.Column("workflow_id", sa.Uuid()),
        sa.Column("job_id", sa.String(128)),
        sa.Column("pii_redacted", sa.Boolean(), nullable=False, server_default=sa.text("false")),
        _now("created_at"),
        sa.Index("ix_logs_level_created_at", "level", "created_at"),
        sa.Index("ix_logs_correlation_id", "correlation_id"),
        sa.Index("ix_logs_created_at", "created_at"),
    )
    _table(
        "events",
        sa.Column("type", sa.String(64), nullable=False),
        sa.Column("aggregate_type", sa.String(32), nullable=False),
        sa.Column("aggregate_id", sa.Uuid(), nullable=False),
        sa.Column("payload", JSON, nullable=False),
        sa.Column("actor", sa.String(255)),
        sa.Column("correlation_id", sa.String(64)),
        sa.Column("occurred_at", TIMESTAMP, nullable=False),
        sa.Index("ix_events_aggregate_id_occurred_at", "aggregate_id", "occurred_at"),
        sa.Index("ix_events_type_occurred_at", "type", "occurred_at"),
    )
    _table(
        "outbox",
        sa.Column("actor", sa.String(128), nullable=False),
        sa.Column("arguments", JSON, nullable=False),
        sa.Column("queue", sa.String(32), nullable=False),
        sa.Column("correlation_id", sa.String(64)),
        _now("created_at"),
        sa.Column("published_at", TIMESTAMP),
        _partial("ix_outbox_unpublished", "created_at", "published_at IS NULL"),
    )
    _table(
        "failed_jobs",
        sa.Column("message_id", sa.String(64)),
        sa.Column("queue", sa.String(32), nullable=False),
        sa.Column("actor", sa.String(128), nullable=False),
        sa.Column("arguments", JSON, nullable=False),
        sa.Column("error", sa.Text(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        _now("failed_at"),
        sa.Column("replayed_at", TIMESTAMP),
        sa.Index("ix_failed_jobs_failed_at", "failed_at"),
    )


def downgrade() -> None:
    # Reverse creation order: children before parents, so no foreign key outlives its target.
    for table in reversed(TABLES):
        op.drop_table(table)
