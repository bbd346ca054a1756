"""Persisted documents: the GraphQL documents clients send by id, registered by automatic
persisted queries or pushed from a frontend's manifest (`visapi documents push`).

Revision ID: 0006, revises 0005.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TIMESTAMP = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "persisted_documents",
        sa.Column("id", sa.String(128), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("source", sa.String(16), nullable=False),
        sa.Column("operation_name", sa.String(255)),
        sa.Column("owner", sa.String(64)),
        sa.Column("created_at", TIMESTAMP, nullable=False, server_default=sa.func.now()),
        sa.PrimaryKeyConstraint("id", name="pk_persisted_documents"),
        sa.Index("ix_persisted_documents_owner", "owner"),
    )


def downgrade() -> None:
    op.drop_table("persisted_documents")
