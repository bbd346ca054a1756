"""The order pipeline: idempotency keys of REST writes, the claim token of notifications and
the sandbox vendors' record of what they would have sent.

Revision ID: 0003, revises 0002.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JSON = sa.JSON().with_variant(JSONB(), "postgresql")
TIMESTAMP = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "idempotency_keys",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("scope", sa.String(64), nullable=False),
        sa.Column("key", sa.String(255), nullable=False),
        sa.Column("request_hash", sa.String(64), nullable=False),
        sa.Column("status_code", sa.Integer()),
        sa.Column("response", JSON),
        sa.Column("created_at", TIMESTAMP, nullable=False, server_default=sa.func.now()),
        sa.Column("expires_at", TIMESTAMP, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_idempotency_keys"),
        sa.UniqueConstraint("scope", "key", name="uq_idempotency_keys_scope_key"),
        sa.Index("ix_idempotency_keys_expires_at", "expires_at"),
    )
    with op.batch_alter_table("notifications") as batch:
        batch.add_column(sa.Column("claim_token", sa.String(36)))
    op.create_table(
        "sandbox_messages",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("vendor", sa.String(32), nullable=False),
        sa.Column("operation", sa.String(32), nullable=False),
        sa.Column("phone", sa.String(32)),
        sa.Column("payload", JSON, nullable=False),
        sa.Column("created_at", TIMESTAMP, nullable=False, server_default=sa.func.now()),
        sa.PrimaryKeyConstraint("id", name="pk_sandbox_messages"),
        sa.Index("ix_sandbox_messages_created_at", "created_at"),
    )


def downgrade() -> None:
    op.drop_table("sandbox_messages")
    with op.batch_alter_table("notifications") as batch:
        batch.drop_column("claim_token")
    op.drop_table("idempotency_keys")
