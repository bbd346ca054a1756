"""Templates and translations from `message_templates` and `translations` (seeded, editable)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from domain.notifications.confirmation import Template
from domain.notifications.texts import Translations
from infrastructure.db.tables import message_templates, translations


class SqlMessageTexts:
    """Implements `app.notifications.ports.MessageTexts` (a few dozen rows, read once per unit
    of work)."""

    def __init__(self, conn: AsyncConnection) -> None:
        self._conn = conn
        # What this unit read, kept for its other reads: a grouped job reads them once.
        self._templates: dict[tuple[str, str], Template | None] = {}
        self._translations: dict[str, Translations] = {}

    async def template(self, name: str, language: str) -> Template | None:
        if (name, language) not in self._templates:
            self._templates[name, language] = await self._template(name, language)
        return self._templates[name, language]

    async def _template(self, name: str, language: str) -> Template | None:
        row = (
            await self._conn.execute(
                select(message_templates.c.parameters).where(
                    message_templates.c.name == name, message_templates.c.language == language
                )
            )
        ).first()
        if row is None:
            return None
        return Template(name, language, tuple(str(p) for p in row.parameters))

    async def translations(self, language: str) -> Translations:
        if language not in self._translations:
            self._translations[language] = await self._read_translations(language)
        return self._translations[language]

    async def _read_translations(self, language: str) -> Translations:
        rows = await self._conn.execute(
            select(translations.c.kind, translations.c.key, translations.c.text).where(
                translations.c.language == language
            )
        )
        return Translations(language, {(r.kind, r.key.lower()): r.text for r in rows})
