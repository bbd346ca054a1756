"""Access tables: API keys and the people who sign in with tokens."""

from sqlalchemy import Column, String, Table

from infrastructure.db.tables.base import Json, Timestamp, created, metadata, pk, updated

api_keys = Table(
    "api_keys",
    metadata,
    pk(),
    Column("name", String(100), nullable=False),
    Column("prefix", String(32), nullable=False, unique=True),
    Column("hashed_secret", String(255), nullable=False),
    Column("scopes", Json, nullable=False),
    Column("expires_at", Timestamp),
    Column("created_by", String(255)),
    Column("last_used_at", Timestamp),
    Column("revoked_at", Timestamp),
    created(),
    updated(),
)

users = Table(
    "users",
    metadata,
    pk(),
    Column("email", String(320), nullable=False, unique=True),
    Column("role", String(16), nullable=False),
    Column("external_subject", String(255), unique=True),
    created(),
    updated(),
)
