"""Write-side repositories of API keys and users, over one connection of a unit of work."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from sqlalchemy import insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from app.auth.ports import UserAlreadyExists
from domain.auth.keys import ApiKey
from domain.auth.permissions import Permission, Role
from domain.auth.users import User
from infrastructure.db.tables import api_keys, users


def key_from_row(row: Any) -> ApiKey:
    data = dict(row._mapping)
    data.pop("updated_at", None)
    data["scopes"] = frozenset(Permission(s) for s in data["scopes"])
    return ApiKey(**data)


def user_from_row(row: Any) -> User:
    data = dict(row._mapping)
    data.pop("updated_at", None)
    data["role"] = Role(data["role"])
    return User(**data)


class SqlApiKeys:
    """Statements run at once, inside the unit of work's transaction."""

    def __init__(self, conn: AsyncConnection) -> None:
        self._conn = conn

    async def add(self, key: ApiKey) -> None:
        await self._conn.execute(
            insert(api_keys).values(
                id=key.id,
                name=key.name,
                prefix=key.prefix,
                hashed_secret=key.hashed_secret,
                scopes=sorted(s.value for s in key.scopes),
                expires_at=key.expires_at,
                created_by=key.created_by,
                last_used_at=key.last_used_at,
                revoked_at=key.revoked_at,
                created_at=key.created_at,
                updated_at=key.created_at,
            )
        )

    async def get(self, id: UUID) -> ApiKey | None:
        # FOR UPDATE on PostgreSQL (SQLite has no row locks; its writers take the database lock
        # at BEGIN IMMEDIATE instead): two concurrent rotations cannot both win.
        row = (
            await self._conn.execute(select(api_keys).where(api_keys.c.id == id).with_for_update())
        ).first()
        return key_from_row(row) if row else None

    async def save(self, key: ApiKey) -> None:
        await self._conn.execute(
            update(api_keys)
            .where(api_keys.c.id == key.id)
            .values(
                hashed_secret=key.hashed_secret,
                expires_at=key.expires_at,
                revoked_at=key.revoked_at,
                updated_at=datetime.now(UTC),
            )
        )


class SqlUsers:
    def __init__(self, conn: AsyncConnection) -> None:
        self._conn = conn

    async def add(self, user: User) -> None:
        try:
            await self._conn.execute(
                insert(users).values(
                    id=user.id,
                    email=user.email,
                    role=user.role.value,
                    external_subject=user.external_subject,
                    created_at=user.created_at,
                    updated_at=user.created_at,
                )
            )
        except IntegrityError as exc:
            raise UserAlreadyExists(str(exc.orig)) from None

    async def get(self, id: UUID) -> User | None:
        row = (
            await self._conn.execute(select(users).where(users.c.id == id).with_for_update())
        ).first()
        return user_from_row(row) if row else None

    async def save(self, user: User) -> None:
        await self._conn.execute(
            update(users)
            .where(users.c.id == user.id)
            .values(role=user.role.value, updated_at=datetime.now(UTC))
        )
