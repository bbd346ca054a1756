"""Retention: indexes for the batched deletes of published outbox rows, replayed dead letters
and delivery events (webhook payloads and logs have theirs since 0001).

Both partial indexes leave out the rows retention never deletes by that column (unpublished
outbox rows, unreplayed dead letters), so they stay as small as the deletable backlog.

Revision ID: 0005, revises 0004.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    for table, column in (("outbox", "published_at"), ("failed_jobs", "replayed_at")):
        op.create_index(
            f"ix_{table}_{column}",
            table,
            [column],
            postgresql_where=sa.text(f"{column} IS NOT NULL"),
            sqlite_where=sa.text(f"{column} IS NOT NULL"),
        )
    op.create_index("ix_delivery_events_received_at", "delivery_events", ["received_at"])


def downgrade() -> None:
    op.drop_index("ix_delivery_events_received_at", table_name="delivery_events")
    op.drop_index("ix_failed_jobs_replayed_at", table_name="failed_jobs")
    op.drop_index("ix_outbox_published_at", table_name="outbox")
