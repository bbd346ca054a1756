"""Fakes of the API key and user repositories (infrastructure/db/access.py): statements run at
once, and `save` writes only the columns the adapter's UPDATE sets."""

from __future__ import annotations

from dataclasses import replace
from uuid import UUID

from app.auth.ports import UserAlreadyExists
from domain.auth.keys import ApiKey
from domain.auth.users import User
from tests.fakes.store import FakeStore, Staged, detached


class DuplicateKeyPrefix(Exception):
    """The unique `api_keys.prefix` refused an insert (the adapter lets IntegrityError out)."""


class FakeApiKeys:
    def __init__(self, store: FakeStore) -> None:
        self.rows: Staged[UUID, ApiKey] = Staged(store.api_keys, detached)

    async def add(self, key: ApiKey) -> None:
        if any(k.prefix == key.prefix for k in self.rows.values()):
            raise DuplicateKeyPrefix(key.prefix)
        self.rows.put(key.id, key)

    async def get(self, id: UUID) -> ApiKey | None:
        return self.rows.get(id)

    async def save(self, key: ApiKey) -> None:
        stored = self.rows.get(key.id)
        if stored is not None:
            changed = replace(
                stored,
                hashed_secret=key.hashed_secret,
                expires_at=key.expires_at,
                revoked_at=key.revoked_at,
            )
            self.rows.put(key.id, changed)


class FakeUsers:
    def __init__(self, store: FakeStore) -> None:
        self.rows: Staged[UUID, User] = Staged(store.users, detached)

    async def add(self, user: User) -> None:
        for other in self.rows.values():
            if other.id == user.id or other.email == user.email:
                raise UserAlreadyExists(user.email)
            if other.external_subject == user.external_subject:
                raise UserAlreadyExists(user.external_subject)
        self.rows.put(user.id, user)

    async def get(self, id: UUID) -> User | None:
        return self.rows.get(id)

    async def save(self, user: User) -> None:
        stored = self.rows.get(user.id)
        if stored is not None:
            self.rows.put(user.id, replace(stored, role=user.role))
