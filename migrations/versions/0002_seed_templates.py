"""Seed the WhatsApp order confirmation template (he, en, ru, sv) and Hebrew translations.

Revision ID: 0002, revises 0001. The rows live in ``migrations.seed_data``; their ids are
deterministic, so the downgrade removes exactly the seeded rows and a re-upgrade restores them.
"""

import json
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

from migrations.seed_data import template_rows, translation_rows

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


class SeedJSON(sa.types.TypeDecorator[Any]):
    """JSON (JSONB on PostgreSQL) that also renders as a literal, for offline ``--sql`` scripts."""

    impl = sa.JSON
    cache_ok = True

    def load_dialect_impl(self, dialect: sa.Dialect) -> sa.types.TypeEngine[Any]:
        return dialect.type_descriptor(JSONB() if dialect.name == "postgresql" else sa.JSON())

    def process_literal_param(self, value: Any, dialect: sa.Dialect) -> str:
        return "'" + json.dumps(value, ensure_ascii=False).replace("'", "''") + "'"


# Lightweight tables: only the columns written here. created_at/updated_at use server defaults.
message_templates = sa.table(
    "message_templates",
    sa.column("id", sa.Uuid()),
    sa.column("name", sa.String()),
    sa.column("language", sa.String()),
    sa.column("parameters", SeedJSON()),
    sa.column("body_preview", sa.Text()),
    sa.column("category", sa.String()),
)
translations = sa.table(
    "translations",
    sa.column("id", sa.Uuid()),
    sa.column("kind", sa.String()),
    sa.column("key", sa.String()),
    sa.column("language", sa.String()),
    sa.column("text", sa.Text()),
)


def upgrade() -> None:
    op.bulk_insert(message_templates, template_rows())
    op.bulk_insert(translations, translation_rows())


def downgrade() -> None:
    seeded = (
        (message_templates, [row["id"] for row in template_rows()]),
        (translations, [row["id"] for row in translation_rows()]),
    )
    for table, ids in seeded:
        op.execute(table.delete().where(table.c.id.in_(ids)))
