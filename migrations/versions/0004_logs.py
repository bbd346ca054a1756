"""Business logs: indexes for the filters of the `logs` query (workflow, job, message text).

The message index needs the pg_trgm extension (trusted since PostgreSQL 13: a database owner
may create it). Where it cannot be created, the migration goes on without the index and text
search falls back to scanning, correct but slower; the warning says so.

Revision ID: 0004, revises 0003.
"""

import logging
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import context, op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

log = logging.getLogger("alembic.runtime.migration")


def _trigrams_available() -> bool:
    if context.is_offline_mode():
        return True  # the reviewed script creates both; the reviewer sees why
    bind = op.get_bind()
    try:
        with bind.begin_nested():
            bind.execute(sa.text("CREATE EXTENSION IF NOT EXISTS pg_trgm"))
    except sa.exc.DBAPIError as exc:
        log.warning("pg_trgm unavailable (%s): logs text search will scan", exc.orig)
        return False
    return True


def upgrade() -> None:
    for column in ("workflow_id", "job_id"):
        op.create_index(
            f"ix_logs_{column}_created_at",
            "logs",
            [column, "created_at"],
            postgresql_where=sa.text(f"{column} IS NOT NULL"),
            sqlite_where=sa.text(f"{column} IS NOT NULL"),
        )
    if op.get_context().dialect.name == "postgresql" and _trigrams_available():
        if context.is_offline_mode():
            op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
        op.create_index(
            "ix_logs_message_trgm",
            "logs",
            ["message"],
            postgresql_using="gin",
            postgresql_ops={"message": "gin_trgm_ops"},
        )


def downgrade() -> None:
    # The extension stays: other objects of the database may use it by now.
    if op.get_context().dialect.name == "postgresql":
        op.execute("DROP INDEX IF EXISTS ix_logs_message_trgm")
    op.drop_index("ix_logs_job_id_created_at", table_name="logs")
    op.drop_index("ix_logs_workflow_id_created_at", table_name="logs")
