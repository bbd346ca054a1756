"""Fakes of the contact sync and notification repositories and of the message texts, with the
claim semantics of infrastructure/db/contact_syncs.py and notifications.py."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime
from typing import Any
from uuid import UUID

from app.contacts.ports import SyncStart
from app.notifications.ports import Claimed, ClaimState, NewNotification
from app.orders.side_views import NotificationView
from domain.notifications.confirmation import Template
from domain.notifications.status import NotificationStatus as S
from domain.notifications.texts import Translations
from tests.fakes.rows import ContactSyncRow, NotificationRow
from tests.fakes.store import FakeStore, Staged

# The adapters' column limits: a fake that kept a longer text would hide a truncation.
MAX_ERROR_CHARS = 2_000
MAX_REASON_CHARS = 2_000


class DuplicateRow(Exception):
    """A primary key taken: the adapter lets the database's IntegrityError out."""


class FakeContactSyncs:
    def __init__(self, store: FakeStore) -> None:
        self.rows: Staged[UUID, ContactSyncRow] = Staged(store.contact_syncs)

    async def begin_attempts(
        self, starts: Sequence[SyncStart], at: datetime, *, force: bool
    ) -> dict[UUID, int]:
        begun = {}
        for s in starts:
            row = self.rows.get(s.order_uuid)
            if row is None:
                row = ContactSyncRow(s.order_uuid, s.language, dict(s.translated), at, at)
            elif row.synced and not force:
                continue
            row = replace(
                row,
                language=s.language,
                translated_fields=dict(s.translated),
                attempts=row.attempts + 1,
                last_attempt_at=at,
                updated_at=at,
            )
            self.rows.put(s.order_uuid, row)
            begun[s.order_uuid] = row.attempts
        return begun

    async def is_synced(self, order_uuid: UUID) -> bool:
        row = self.rows.get(order_uuid)
        return row is not None and row.synced

    async def record_success(
        self, order_uuid: UUID, contact_id: str, created: bool, at: datetime
    ) -> None:
        row = self.rows.get(order_uuid)
        if row is not None:
            done = replace(row, synced=True, contact_id=contact_id, created=created, updated_at=at)
            self.rows.put(order_uuid, done)

    async def record_failure(
        self, order_uuid: UUID, category: str, message: str, at: datetime
    ) -> None:
        row = self.rows.get(order_uuid)
        if row is not None:
            failed = replace(
                row,
                error_count=row.error_count + 1,
                last_error_category=category,
                last_error=message[:MAX_ERROR_CHARS],
                updated_at=at,
            )
            self.rows.put(order_uuid, failed)


class FakeNotifications:
    def __init__(self, store: FakeStore) -> None:
        self.rows: Staged[UUID, NotificationRow] = Staged(store.notifications)

    async def add(self, row: NewNotification) -> bool:
        key = (row.order_uuid, row.kind, row.item)
        if any((n.order_uuid, n.kind, n.item) == key for n in self.rows.values()):
            return False  # the unique (order_uuid, kind, item): ON CONFLICT DO NOTHING
        if self.rows.get(row.id) is not None:
            # Only that constraint is answered by DO NOTHING: a taken id is an integrity error.
            raise DuplicateRow(f"notifications.id {row.id}")
        self.rows.put(
            row.id,
            NotificationRow(
                id=row.id,
                order_uuid=row.order_uuid,
                kind=row.kind,
                item=row.item,
                template=row.template,
                language=row.language,
                params=list(row.params),
                phone=row.phone,
                status=S.QUEUED.value,
                created_at=row.created_at,
                updated_at=row.created_at,
            ),
        )
        return True

    async def of_order(self, order_uuid: UUID, kind: str) -> list[NotificationView]:
        rows = [n for n in self.rows.values() if n.order_uuid == order_uuid and n.kind == kind]
        return [n.view() for n in sorted(rows, key=lambda n: (n.created_at, n.id))]

    async def state(self, id: UUID) -> ClaimState | None:
        row = self.rows.get(id)
        return ClaimState(row.status, row.claimed_at) if row else None

    async def claim(
        self, ids: Sequence[UUID], token: str, at: datetime, stale_before: datetime
    ) -> dict[UUID, Claimed]:
        claims = {}
        for id in ids:
            claim = self._claim(id, token, at, stale_before)
            if claim is not None:
                claims[id] = claim
        return claims

    def _claim(self, id: UUID, token: str, at: datetime, stale_before: datetime) -> Claimed | None:
        row = self.rows.get(id)
        if row is None:
            return None
        stale = (
            row.status == S.PENDING.value
            and row.claimed_at is not None
            and row.claimed_at < stale_before
        )
        if row.status != S.QUEUED.value and not stale:
            return None
        self.rows.put(
            id,
            replace(
                row,
                status=S.PENDING.value,
                claimed_at=at,
                claim_token=token,
                attempts=row.attempts + 1,
                updated_at=at,
            ),
        )
        return Claimed(id, token, row.phone, row.template, row.language, list(row.params))

    async def release(self, id: UUID, token: str, reason: str, at: datetime) -> bool:
        held = self._held(
            id, token, at, status=S.QUEUED.value, failure_reason=reason[:MAX_REASON_CHARS]
        )
        return held is not None

    async def record_sent(
        self, id: UUID, token: str, provider_message_id: str | None, at: datetime
    ) -> UUID | None:
        return self._held(
            id,
            token,
            at,
            status=S.SENT.value,
            sent_at=at,
            provider_message_id=provider_message_id,
            failure_reason=None,
        )

    async def record_failed(self, id: UUID, token: str, reason: str, at: datetime) -> UUID | None:
        return self._held(
            id,
            token,
            at,
            status=S.FAILED.value,
            failed_at=at,
            failure_reason=reason[:MAX_REASON_CHARS],
        )

    def _held(self, id: UUID, token: str, at: datetime, **values: Any) -> UUID | None:
        row = self.rows.get(id)
        if row is None or row.claim_token != token or row.status != S.PENDING.value:
            return None
        self.rows.put(id, replace(row, claim_token=None, updated_at=at, **values))
        return row.order_uuid


class FakeMessageTexts:
    def __init__(self, store: FakeStore) -> None:
        self.store = store

    async def template(self, name: str, language: str) -> Template | None:
        parameters = self.store.templates.get((name, language))
        return None if parameters is None else Template(name, language, parameters)

    async def translations(self, language: str) -> Translations:
        texts = {
            (kind, key.lower()): text
            for (lang, kind, key), text in self.store.translations.items()
            if lang == language
        }
        return Translations(language, texts)
