"""Access commands (issue, revoke and rotate keys; change a role) and what they return."""

from __future__ import annotations

from dataclasses import dataclass, field
from uuid import UUID

from app.auth.ports import KeyView
from domain.auth.permissions import Permission


@dataclass(frozen=True)
class CreateApiKey:
    name: str
    scopes: tuple[str, ...]
    expires_in_days: int | None = None
    actor: str | None = None
    correlation_id: str | None = None
    # The caller's own permissions: a key may not grant more than its creator holds.
    # None for the command line, which runs with the database's own authority.
    held: frozenset[Permission] | None = None


@dataclass(frozen=True)
class RevokeApiKey:
    id: UUID
    actor: str | None = None
    correlation_id: str | None = None
    # As for CreateApiKey: only a key whose every scope the caller holds (None: command line).
    held: frozenset[Permission] | None = None


@dataclass(frozen=True)
class RotateApiKey:
    id: UUID
    expires_in_days: int | None = None
    actor: str | None = None
    correlation_id: str | None = None
    # Rotating hands out the key's powers with its new secret: same rule as revoking.
    held: frozenset[Permission] | None = None


@dataclass(frozen=True)
class SetUserRole:
    user_id: UUID
    role: str
    actor: str | None = None
    correlation_id: str | None = None
    # The caller must hold every permission of the user's current role and of the new one
    # (None: command line); `caller` is the calling user's id, who may not change their own.
    held: frozenset[Permission] | None = None
    caller: UUID | None = None


@dataclass(frozen=True)
class IssuedKey:
    """A created or rotated key; `secret` is the full `<prefix>.<secret>`, shown this once."""

    key: KeyView
    secret: str = field(repr=False)
