"""Operations tables: domain events, the outbox, dead letters, periodic ticks and logs."""

from sqlalchemy import (
    DDL,
    Boolean,
    Column,
    Index,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
    Uuid,
    event,
    func,
    text,
)

from infrastructure.db.tables.base import Json, Timestamp, created, metadata, pk

events = Table(
    "events",
    metadata,
    pk(),
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
    pk(),
    Column("actor", String(128), nullable=False),
    Column("arguments", Json, nullable=False),
    Column("queue", String(32), nullable=False),
    Column("correlation_id", String(64)),
    created(),
    Column("published_at", Timestamp),
    Index(
        "ix_outbox_unpublished",
        "created_at",
        postgresql_where=text("published_at IS NULL"),
        sqlite_where=text("published_at IS NULL"),
    ),
    # Retention deletes published rows by publication time; the unpublished are never in it.
    Index(
        "ix_outbox_published_at",
        "published_at",
        postgresql_where=text("published_at IS NOT NULL"),
        sqlite_where=text("published_at IS NOT NULL"),
    ),
)

failed_jobs = Table(
    "failed_jobs",
    metadata,
    pk(),
    Column("message_id", String(64)),
    Column("queue", String(32), nullable=False),
    Column("actor", String(128), nullable=False),
    Column("arguments", Json, nullable=False),
    Column("error", Text, nullable=False),
    Column("attempts", Integer, nullable=False),
    Column("failed_at", Timestamp, nullable=False, server_default=func.now()),
    Column("replayed_at", Timestamp),
    Index("ix_failed_jobs_failed_at", "failed_at"),
    # Retention of replayed dead letters (most rows are never replayed: only those are indexed).
    Index(
        "ix_failed_jobs_replayed_at",
        "replayed_at",
        postgresql_where=text("replayed_at IS NOT NULL"),
        sqlite_where=text("replayed_at IS NOT NULL"),
    ),
)

schedule_ticks = Table(
    "schedule_ticks",
    metadata,
    pk(),
    Column("job_name", String(128), nullable=False),
    Column("tick_at", Timestamp, nullable=False),
    Column("claimed_by", String(128), nullable=False),
    Column("claimed_at", Timestamp, nullable=False, server_default=func.now()),
    UniqueConstraint("job_name", "tick_at"),
)

# Idempotency keys of REST writes (the order webhook, workflow triggers): the first request
# under a key stores its answer; repeats within the TTL get that answer, a different body 422.
idempotency_keys = Table(
    "idempotency_keys",
    metadata,
    pk(),
    Column("scope", String(64), nullable=False),
    Column("key", String(255), nullable=False),
    Column("request_hash", String(64), nullable=False),
    Column("status_code", Integer),  # null while the first request is still running
    Column("response", Json),
    created(),
    Column("expires_at", Timestamp, nullable=False),
    UniqueConstraint("scope", "key"),
    Index("ix_idempotency_keys_expires_at", "expires_at"),
)

logs = Table(
    "logs",
    metadata,
    pk(),
    Column("level", String(16), nullable=False),
    Column("message", Text, nullable=False),
    Column("metadata", Json, nullable=False),
    Column("correlation_id", String(64)),
    Column("workflow_id", Uuid),
    Column("job_id", String(128)),
    Column("pii_redacted", Boolean, nullable=False, server_default=text("false")),
    created(),
    Index("ix_logs_level_created_at", "level", "created_at"),
    Index("ix_logs_correlation_id", "correlation_id"),
    Index("ix_logs_created_at", "created_at"),
    # Most logs belong to no workflow or job: index only those that do.
    Index(
        "ix_logs_workflow_id_created_at",
        "workflow_id",
        "created_at",
        postgresql_where=text("workflow_id IS NOT NULL"),
        sqlite_where=text("workflow_id IS NOT NULL"),
    ),
    Index(
        "ix_logs_job_id_created_at",
        "job_id",
        "created_at",
        postgresql_where=text("job_id IS NOT NULL"),
        sqlite_where=text("job_id IS NOT NULL"),
    ),
    # Substring search (`message ILIKE '%text%'`) over millions of rows: trigrams, PostgreSQL
    # only (SQLite scans; a B-tree on message would serve no substring search).
    Index(
        "ix_logs_message_trgm",
        "message",
        postgresql_using="gin",
        postgresql_ops={"message": "gin_trgm_ops"},
    ).ddl_if(dialect="postgresql"),
)

# metadata.create_all (tests, tools) needs the operator class before the index.
event.listen(
    logs,
    "before_create",
    DDL("CREATE EXTENSION IF NOT EXISTS pg_trgm").execute_if(  # type: ignore[no-untyped-call]
        dialect="postgresql"
    ),
)
