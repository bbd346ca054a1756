"""Messaging tables: CRM contact syncs, WhatsApp templates, translations, notifications."""

from sqlalchemy import (
    Boolean,
    Column,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
    Uuid,
    func,
    text,
)

from infrastructure.db.tables.base import Json, Timestamp, created, metadata, pk, updated

contact_syncs = Table(
    "contact_syncs",
    metadata,
    pk(),
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
    created(),
    updated(),
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
    pk(),
    Column("name", String(128), nullable=False),
    Column("language", String(8), nullable=False),
    Column("parameters", Json, nullable=False),
    Column("body_preview", Text, nullable=False),
    Column("category", String(32), nullable=False),
    created(),
    updated(),
    UniqueConstraint("name", "language"),
)

translations = Table(
    "translations",
    metadata,
    pk(),
    Column("kind", String(32), nullable=False),
    Column("key", String(128), nullable=False),
    Column("language", String(8), nullable=False),
    Column("text", Text, nullable=False),
    created(),
    updated(),
    UniqueConstraint("kind", "key", "language"),
)

notifications = Table(
    "notifications",
    metadata,
    pk(),
    Column("order_uuid", Uuid, ForeignKey("orders.id", ondelete="CASCADE"), nullable=False),
    Column("kind", String(32), nullable=False),
    Column("item", String(128), nullable=False, server_default=""),
    Column("template", String(128), nullable=False),
    Column("language", String(8), nullable=False),
    Column("params", Json, nullable=False),
    Column("phone", String(32), nullable=False),
    Column("status", String(16), nullable=False),
    Column("claimed_at", Timestamp),
    # Which attempt holds the claim: only its holder may record the send or release it.
    Column("claim_token", String(36)),
    Column("provider_message_id", String(128)),
    Column("sent_at", Timestamp),
    Column("delivered_at", Timestamp),
    Column("read_at", Timestamp),
    Column("failed_at", Timestamp),
    Column("failure_reason", Text),
    Column("attempts", Integer, nullable=False, server_default=text("0")),
    created(),
    updated(),
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
    pk(),
    Column("payload", Json, nullable=False),
    Column("signature_verified", Boolean, nullable=False),
    Column("event_type", String(32)),
    Column("provider_message_id", String(128)),
    Column("phone", String(32)),
    Column("processing_status", String(16), nullable=False),
    Column("received_at", Timestamp, nullable=False, server_default=func.now()),
    Index("ix_delivery_events_provider_message_id", "provider_message_id"),
    Index("ix_delivery_events_received_at", "received_at"),  # retention
)

# What the sandbox vendors would have sent (no CRM configured): visible in `sandboxMessages`.
# In the database, not in memory, so API processes see what separate workers recorded.
sandbox_messages = Table(
    "sandbox_messages",
    metadata,
    pk(),
    Column("vendor", String(32), nullable=False),
    Column("operation", String(32), nullable=False),
    Column("phone", String(32)),
    Column("payload", Json, nullable=False),
    created(),
    Index("ix_sandbox_messages_created_at", "created_at"),
)
