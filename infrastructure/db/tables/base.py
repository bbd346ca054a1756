"""SQLAlchemy Core tables for DOMAIN.md "Data": one schema for SQLite and PostgreSQL."""

from sqlalchemy import (
    JSON,
    Column,
    MetaData,
    Uuid,
    func,
)
from sqlalchemy.dialects.postgresql import JSONB

from infrastructure.db.types import UTCDateTime

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "ck": "ck_%(table_name)s_%(constraint_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

# JSON everywhere, JSONB on PostgreSQL (indexable, compact, deduplicated keys).
Json = JSON().with_variant(JSONB(), "postgresql")
Timestamp = UTCDateTime()


def pk() -> Column[object]:
    return Column("id", Uuid, primary_key=True)


def created() -> Column[object]:
    return Column("created_at", Timestamp, nullable=False, server_default=func.now())


def updated() -> Column[object]:
    return Column("updated_at", Timestamp, nullable=False, server_default=func.now())


def declared_for(item: object, dialect: str) -> bool:
    """False for an index declared `.ddl_if(dialect=...)` for other dialects only (Alembic's
    comparison ignores ddl_if: without this it would ask to add the index everywhere)."""
    wanted = getattr(getattr(item, "_ddl_if", None), "dialect", None)
    if wanted is None:
        return True
    return dialect == wanted if isinstance(wanted, str) else dialect in wanted
