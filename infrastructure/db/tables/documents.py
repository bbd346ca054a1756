"""Persisted documents: GraphQL documents clients send by id (APQ, trusted manifests)."""

from sqlalchemy import Column, Index, String, Table, Text

from infrastructure.db.tables.base import created, metadata

persisted_documents = Table(
    "persisted_documents",
    metadata,
    # What clients send: an APQ sha256 (64 hex digits) or a manifest's id (Relay: md5).
    Column("id", String(128), primary_key=True),
    Column("body", Text, nullable=False),
    Column("sha256", String(64), nullable=False),
    Column("source", String(16), nullable=False),  # apq | manifest
    Column("operation_name", String(255)),
    # The caller that registered it by APQ (`api_key:<uuid>`, `user:<uuid>`): its cap counts.
    Column("owner", String(64)),
    created(),
    Index("ix_persisted_documents_owner", "owner"),
)
