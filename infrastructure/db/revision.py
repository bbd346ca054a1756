"""Is the database at this code's migration head? Asked at start and by every readiness probe.

The head and the known revisions are read from the migration scripts once; a probe then reads
the `alembic_version` row and compares (no Alembic migration context, no script loading).
Against an older, empty or unknown schema every query of the new code may fail (INTERNAL
answers, scheduler tracebacks), so the processes refuse to start and readiness answers 503.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from alembic.script import ScriptDirectory
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from infrastructure.db.migrate import alembic_config

# Existence first: selecting from a missing table would abort a PostgreSQL transaction, and its
# error could not be told from a connection failing mid-query without parsing messages.
_EXISTS = {
    "postgresql": "SELECT to_regclass('alembic_version') IS NOT NULL",
    "sqlite": "SELECT count(*) > 0 FROM sqlite_master WHERE type = 'table'"
    " AND name = 'alembic_version'",
}


@dataclass(frozen=True)
class Migrations:
    """The chain this code was built with: its head and every revision it knows."""

    head: str
    known: frozenset[str]

    @classmethod
    def of_code(cls) -> Migrations:
        script = ScriptDirectory.from_config(alembic_config("sqlite://"))
        [head] = script.get_heads()  # one chain (tests/integration/test_migrations.py)
        return cls(head, frozenset(r.revision for r in script.walk_revisions()))

    def problem(self, current: tuple[str, ...]) -> str | None:
        """None at the head, else what is wrong, in words an operator acts on."""
        if current == (self.head,):
            return None
        if not current:
            return f"the database has no schema (this code needs {self.head}): run `visapi migrate`"
        unknown = [r for r in current if r not in self.known]
        if unknown:
            return (
                f"the database is at migration {', '.join(unknown)}, unknown to this release"
                f" (its head is {self.head}): run the release that migrated it (`visapi migrate`"
                " of this one cannot go back)"
            )
        return (
            f"the database is at migration {', '.join(current)}, this code needs {self.head}:"
            " run `visapi migrate`"
        )


async def current_revisions(conn: AsyncConnection) -> tuple[str, ...]:
    """The rows of `alembic_version` (one per head; none when the database was never migrated)."""
    if not (await conn.execute(text(_EXISTS[conn.dialect.name]))).scalar():
        return ()
    rows = await conn.execute(text("SELECT version_num FROM alembic_version"))
    return tuple(sorted(rows.scalars()))


class SchemaCheck:
    """The readiness check of the schema. Only "at the head" is remembered (for `cache_s`): it
    is the state that lasts, while a schema behind is re-read each probe so a `visapi migrate`
    shows at once."""

    def __init__(
        self,
        migrations: Migrations,
        *,
        cache_s: float = 5.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._migrations = migrations
        self._cache_s = cache_s
        self._clock = clock
        self._at_head_until = float("-inf")

    async def problem(self, engine: AsyncEngine) -> str | None:
        if self._clock() < self._at_head_until:
            return None
        async with engine.connect() as conn:
            problem = self._migrations.problem(await current_revisions(conn))
        if problem is None:
            self._at_head_until = self._clock() + self._cache_s
        return problem


async def schema_problem(engine: AsyncEngine) -> str | None:
    """What keeps this code from running on the database (None: at the head)."""
    return await SchemaCheck(Migrations.of_code(), cache_s=0).problem(engine)
