"""SQLAlchemy Core tables for DOMAIN.md "Data": one schema for SQLite and PostgreSQL."""

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    Uuid,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB

from infrastructure.db.types import Money, UTCDateTime

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "ck": "ck_%(table_name)s_%(constraint_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

# JSON everywhere, JSONB on PostgreSQL (indexable, compact, deduplicated keys).
Json = JSON().with_variant(JSONB(), "postgresql")
Timestamp = UTCDateTime()


def _pk() -> Column[object]:
    return Column("id", Uuid, primary_key=True)


def _created() -> Column[object]:
    return Column("created_at", Timestamp, nullable=False, server_default=func.now())


def _updated() -> Column[object]:
    return Column("updated_at", Timestamp, nullable=False, server_default=func.now())


orders = Table(
    "orders",
    metadata,
    _pk(),
    Column("order_id", String(64), nullable=False, unique=True),
    Column("form_id", String(64)),
    Column("branch", String(8), nullable=False),
    Column("domain", String(255)),
    Column("payment_processor", String(32)),
    Column("payment_id", String(255)),
    Column("amount", Money(), nullable=False),
    Column("currency", String(8), nullable=False),
    Column("order_status", String(16), nullable=False),
    Column("client_name", String(255), nullable=False),
    Column("client_email", String(320)),
    Column("client_phone", String(32)),
    Column("phone_valid", Boolean, nullable=False),
    Column("whatsapp_alerts_enabled", Boolean, nullable=False),
    Column("product_country", String(64), nullable=False),
    Column("product_doc_type", String(64)),
    Column("product_doc_name", String(128)),
    Column("product_intent", String(64)),
    Column("visa_entries", String(32)),
    Column("product_validity", String(32)),
    Column("visa_document_validity_days", Integer),
    Column("processing_days", Integer, nullable=False),
    Column("is_urgent", Boolean, nullable=False),
    Column("visa_quantity", Integer, nullable=False),
    Column("entry_date", Timestamp),
    Column("product_data", Json, nullable=False),
    Column("applicants_data", Json, nullable=False),
    Column("extra_data", Json, nullable=False),
    Column("flags", Json, nullable=False),
    Column("webhook_received_at", Timestamp, nullable=False),
    Column("processed_at", Timestamp),
    _created(),
    _updated(),
    Index("ix_orders_created_at_id", "created_at", "id"),
    Index("ix_orders_branch_created_at", "branch", "created_at"),
    Index("ix_orders_order_status", "order_status"),
    Index("ix_orders_product_country", "product_country"),
    Index("ix_orders_client_email", "client_email"),
    Index("ix_orders_client_phone", "client_phone"),
    Index(
        "ix_orders_unprocessed",
        "created_at",
        postgresql_where=text("processed_at IS NULL"),
        sqlite_where=text("processed_at IS NULL"),
    ),
)

webhook_payloads = Table(
    "webhook_payloads",
    metadata,
    _pk(),
    Column("source", String(32), nullable=False),
    Column("external_order_id", String(128)),
    Column("idempotency_key", String(255)),
    Column("status", String(16), nullable=False),
    Column("error", Text),
    Column("order_uuid", Uuid),
    Column("body", Json, nullable=False),
    Column("received_at", Timestamp, nullable=False, server_default=func.now()),
    Index("ix_webhook_payloads_received_at", "received_at"),
    Index("ix_webhook_payloads_external_order_id", "external_order_id"),
)

contact_syncs = Table(
    "contact_syncs",
    metadata,
    _pk(),
    Column(
        "order_uuid", Uuid, ForeignKey("orders.id", ondelete="CASCADE"), nullable=False, unique=True
    ),
    Column("language", String(8), nullable=False),
    Column("translated_fields", Json, nullable=False),
    Column("synced", Boolean, nullable=False, server_default=text("false")),
    Column("contact_id", String(128)),
    Column("created", Boolean),
    Column("attempts", Integer, nullable=False, server_default=text("0")),
    Column("error_count", Integer, nullable=False, server_default=text("0")),
    Column("last_error_category", String(32)),
    Column("last_error", Text),
    Column("last_attempt_at", Timestamp),
    _created(),
    _updated(),
    Index(
        "ix_contact_syncs_pending",
        "created_at",
        postgresql_where=text("synced = false"),
        sqlite_where=text("synced = 0"),
    ),
)

message_templates = Table(
    "message_templates",
    metadata,
    _pk(),
    Column("name", String(128), nullable=False),
    Column("language", String(8), nullable=False),
    Column("parameters", Json, nullable=False),
    Column("body_preview", Text, nullable=False),
    Column("category", String(32), nullable=False),
    _created(),
    _updated(),
    UniqueConstraint("name", "language"),
)

translations = Table(
    "translations",
    metadata,
    _pk(),
    Column("kind", String(32), nullable=False),
    Column("key", String(128), nullable=False),
    Column("language", String(8), nullable=False),
    Column("text", Text, nullable=False),
    _created(),
    _updated(),
    UniqueConstraint("kind", "key", "language"),
)

notifications = Table(
    "notifications",
    metadata,
    _pk(),
    Column("order_uuid", Uuid, ForeignKey("orders.id", ondelete="CASCADE"), nullable=False),
    Column("kind", String(32), nullable=False),
    Column("item", String(128), nullable=False, server_default=""),
    Column("template", String(128), nullable=False),
    Column("language", String(8), nullable=False),
    Column("params", Json, nullable=False),
    Column("phone", String(32), nullable=False),
    Column("status", String(16), nullable=False),
    Column("claimed_at", Timestamp),
    Column("provider_message_id", String(128)),
    Column("sent_at", Timestamp),
    Column("delivered_at", Timestamp),
    Column("read_at", Timestamp),
    Column("failed_at", Timestamp),
    Column("failure_reason", Text),
    Column("attempts", Integer, nullable=False, server_default=text("0")),
    _created(),
    _updated(),
    UniqueConstraint("order_uuid", "kind", "item"),
    Index("ix_notifications_provider_message_id", "provider_message_id"),
    Index("ix_notifications_phone_sent_at", "phone", "sent_at"),
    Index(
        "ix_notifications_pending",
        "created_at",
        postgresql_where=text("status IN ('queued', 'pending')"),
        sqlite_where=text("status IN ('queued', 'pending')"),
    ),
)

delivery_events = Table(
    "delivery_events",
    metadata,
    _pk(),
    Column("payload", Json, nullable=False),
    Column("signature_verified", Boolean, nullable=False),
    Column("event_type", String(32)),
    Column("provider_message_id", String(128)),
    Column("phone", String(32)),
    Column("processing_status", String(16), nullable=False),
    Column("received_at", Timestamp, nullable=False, server_default=func.now()),
    Index("ix_delivery_events_provider_message_id", "provider_message_id"),
)

api_keys = Table(
    "api_keys",
    metadata,
    _pk(),
    Column("name", String(100), nullable=False),
    Column("prefix", String(32), nullable=False, unique=True),
    Column("hashed_secret", String(255), nullable=False),
    Column("scopes", Json, nullable=False),
    Column("expires_at", Timestamp),
    Column("created_by", String(255)),
    Column("last_used_at", Timestamp),
    Column("revoked_at", Timestamp),
    _created(),
    _updated(),
)

users = Table(
    "users",
    metadata,
    _pk(),
    Column("email", String(320), nullable=False, unique=True),
    Column("role", String(16), nullable=False),
    Column("external_subject", String(255), unique=True),
    _created(),
    _updated(),
)

workflows = Table(
    "workflows",
    metadata,
    _pk(),
    Column("name", String(100), nullable=False),
    Column("description", String(500)),
    Column("definition", Json, nullable=False),
    Column("enabled", Boolean, nullable=False, server_default=text("true")),
    _created(),
    _updated(),
    Index(
        "ix_workflows_enabled",
        "name",
        postgresql_where=text("enabled = true"),
        sqlite_where=text("enabled = 1"),
    ),
)

workflow_runs = Table(
    "workflow_runs",
    metadata,
    _pk(),
    Column("workflow_id", Uuid, ForeignKey("workflows.id", ondelete="CASCADE"), nullable=False),
    Column("trigger_type", String(16), nullable=False),
    Column("trigger_key", String(255)),
    Column("status", String(16), nullable=False),
    Column("context", Json, nullable=False),
    Column("steps", Json, nullable=False),
    Column("started_at", Timestamp),
    Column("finished_at", Timestamp),
    _created(),
    _updated(),
    Index("ix_workflow_runs_workflow_id_created_at", "workflow_id", "created_at"),
    Index("ix_workflow_runs_status", "status"),
)

schedule_ticks = Table(
    "schedule_ticks",
    metadata,
    _pk(),
    Column("job_name", String(128), nullable=False),
    Column("tick_at", Timestamp, nullable=False),
    Column("claimed_by", String(128), nullable=False),
    Column("claimed_at", Timestamp, nullable=False, server_default=func.now()),
    UniqueConstraint("job_name", "tick_at"),
)

logs = Table(
    "logs",
    metadata,
    _pk(),
    Column("level", String(16), nullable=False),
    Column("message", Text, nullable=False),
    Column("metadata", Json, nullable=False),
    Column("correlation_id", String(64)),
    Column("workflow_id", Uuid),
    Column("job_id", String(128)),
    Column("pii_redacted", Boolean, nullable=False, server_default=text("false")),
    _created(),
    Index("ix_logs_level_created_at", "level", "created_at"),
    Index("ix_logs_correlation_id", "correlation_id"),
    Index("ix_logs_created_at", "created_at"),
)

events = Table(
    "events",
    metadata,
    _pk(),
    Column("type", String(64), nullable=False),
    Column("aggregate_type", String(32), nullable=False),
    Column("aggregate_id", Uuid, nullable=False),
    Column("payload", Json, nullable=False),
    Column("actor", String(255)),
    Column("correlation_id", String(64)),
    Column("occurred_at", Timestamp, nullable=False),
    Index("ix_events_aggregate_id_occurred_at", "aggregate_id", "occurred_at"),
    Index("ix_events_type_occurred_at", "type", "occurred_at"),
)

outbox = Table(
    "outbox",
    metadata,
    _pk(),
    Column("actor", String(128), nullable=False),
    Column("arguments", Json, nullable=False),
    Column("queue", String(32), nullable=False),
    Column("correlation_id", String(64)),
    _created(),
    Column("published_at", Timestamp),
    Index(
        "ix_outbox_unpublished",
        "created_at",
        postgresql_where=text("published_at IS NULL"),
        sqlite_where=text("published_at IS NULL"),
    ),
)

failed_jobs = Table(
    "failed_jobs",
    metadata,
    _pk(),
    Column("message_id", String(64)),
    Column("queue", String(32), nullable=False),
    Column("actor", String(128), nullable=False),
    Column("arguments", Json, nullable=False),
    Column("error", Text, nullable=False),
    Column("attempts", Integer, nullable=False),
    Column("failed_at", Timestamp, nullable=False, server_default=func.now()),
    Column("replayed_at", Timestamp),
    Index("ix_failed_jobs_failed_at", "failed_at"),
)
