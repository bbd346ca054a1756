"""Workflow tables: definitions and their runs."""

from sqlalchemy import Boolean, Column, ForeignKey, Index, String, Table, Uuid, text

from infrastructure.db.tables.base import Json, Timestamp, created, metadata, pk, updated

workflows = Table(
    "workflows",
    metadata,
    pk(),
    Column("name", String(100), nullable=False),
    Column("description", String(500)),
    Column("definition", Json, nullable=False),
    Column("enabled", Boolean, nullable=False, server_default=text("true")),
    created(),
    updated(),
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
    pk(),
    Column("workflow_id", Uuid, ForeignKey("workflows.id", ondelete="CASCADE"), nullable=False),
    Column("trigger_type", String(16), nullable=False),
    Column("trigger_key", String(255)),
    Column("status", String(16), nullable=False),
    Column("context", Json, nullable=False),
    Column("steps", Json, nullable=False),
    Column("started_at", Timestamp),
    Column("finished_at", Timestamp),
    created(),
    updated(),
    Index("ix_workflow_runs_workflow_id_created_at", "workflow_id", "created_at"),
    Index("ix_workflow_runs_status", "status"),
)
