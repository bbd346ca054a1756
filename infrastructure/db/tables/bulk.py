"""Bulk operations and the orders each was started over (fixed at its start, in order)."""

from sqlalchemy import (
    Boolean,
    Column,
    ForeignKey,
    Index,
    Integer,
    PrimaryKeyConstraint,
    String,
    Table,
    Uuid,
)

from infrastructure.db.tables.base import Json, Timestamp, created, metadata, pk, updated

bulk_operations = Table(
    "bulk_operations",
    metadata,
    pk(),
    Column("kind", String(32), nullable=False),
    Column("filter", Json),
    Column("force", Boolean, nullable=False),
    Column("status", String(16), nullable=False),  # running | finished | canceled
    Column("total", Integer, nullable=False),
    Column("done", Integer, nullable=False),
    Column("failed", Integer, nullable=False),
    # The first order not yet in a finished batch: where a resumed operation goes on.
    Column("position", Integer, nullable=False),
    Column("failures", Json, nullable=False),  # the first few failed orders, with reasons
    Column("actor", String(255)),
    Column("finished_at", Timestamp),
    created(),
    updated(),
    Index("ix_bulk_operations_created_at_id", "created_at", "id"),
)

bulk_operation_orders = Table(
    "bulk_operation_orders",
    metadata,
    Column(
        "operation_id", Uuid, ForeignKey("bulk_operations.id", ondelete="CASCADE"), nullable=False
    ),
    Column("position", Integer, nullable=False),
    Column("order_uuid", Uuid, nullable=False),
    PrimaryKeyConstraint("operation_id", "position", name="pk_bulk_operation_orders"),
)
