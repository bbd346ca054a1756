"""API keys: the `<prefix>.<secret>` format, the key aggregate and its audit events."""

from __future__ import annotations

import secrets
import string
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from uuid import UUID

from domain.auth.permissions import Permission
from domain.errors import DomainError
from domain.events import DomainEvent

PREFIX_TAG = "vk_"
MAX_PREFIX = 32  # api_keys.prefix is String(32)
MAX_SECRET = 256  # ours are 64; anything much longer is not a key of ours
MAX_NAME = 100
MAX_EXPIRY_DAYS = 3650
_PRINTABLE = frozenset(string.ascii_letters + string.digits + "_-")


def new_key_material(token_hex: Callable[[int], str] = secrets.token_hex) -> tuple[str, str]:
    """A fresh (prefix, secret): `vk_` + 16 hex, and 64 hex (256 bits) of secret."""
    return PREFIX_TAG + token_hex(8), token_hex(32)


def full_key(prefix: str, secret: str) -> str:
    return f"{prefix}.{secret}"


def split_key(presented: str) -> tuple[str, str] | None:
    """(prefix, secret) split at the LAST dot, or None when it cannot be one of our keys.

    The last dot, because the reference's working keys carried dots and underscores in the
    prefix; a secret never contains a dot.
    """
    prefix, dot, secret = presented.rpartition(".")
    if not dot or not prefix or not secret:
        return None
    if len(prefix) > MAX_PREFIX or len(secret) > MAX_SECRET:
        return None
    if not (set(prefix) - {"."}) <= _PRINTABLE or not set(secret) <= _PRINTABLE:
        return None
    return prefix, secret


@dataclass(frozen=True, kw_only=True)
class ApiKeyCreated(DomainEvent):
    type = "api_key.created"
    aggregate_type = "api_key"

    name: str
    prefix: str
    scopes: list[str]
    expires_at: datetime


@dataclass(frozen=True, kw_only=True)
class ApiKeyRevoked(DomainEvent):
    type = "api_key.revoked"
    aggregate_type = "api_key"

    prefix: str


@dataclass(frozen=True, kw_only=True)
class ApiKeyRotated(DomainEvent):
    type = "api_key.rotated"
    aggregate_type = "api_key"

    prefix: str
    expires_at: datetime


def check_name(name: str) -> str:
    name = name.strip()
    if not 1 <= len(name) <= MAX_NAME:
        raise DomainError(f"a key name has 1 to {MAX_NAME} characters", field="name")
    return name


def lifetime(days: int) -> timedelta:
    if not 1 <= days <= MAX_EXPIRY_DAYS:
        raise DomainError(
            f"expiresInDays must be between 1 and {MAX_EXPIRY_DAYS}", field="expiresInDays"
        )
    return timedelta(days=days)


@dataclass
class ApiKey:
    """A key as stored: only a hash of its secret; the full key exists once, at issue."""

    id: UUID
    name: str
    prefix: str
    hashed_secret: str
    scopes: frozenset[Permission]
    expires_at: datetime
    created_by: str | None
    created_at: datetime
    last_used_at: datetime | None = None
    revoked_at: datetime | None = None
    events: list[DomainEvent] = field(default_factory=list, compare=False, repr=False)

    @classmethod
    def issue(
        cls,
        *,
        id: UUID,
        name: str,
        prefix: str,
        hashed_secret: str,
        scopes: frozenset[Permission],
        lifetime: timedelta,
        now: datetime,
        actor: str | None,
    ) -> ApiKey:
        key = cls(
            id=id,
            name=check_name(name),
            prefix=prefix,
            hashed_secret=hashed_secret,
            scopes=scopes,
            expires_at=now + lifetime,
            created_by=actor,
            created_at=now,
        )
        key.events.append(
            ApiKeyCreated(
                aggregate_id=id,
                occurred_at=now,
                actor=actor,
                name=key.name,
                prefix=prefix,
                scopes=sorted(s.value for s in scopes),
                expires_at=key.expires_at,
            )
        )
        return key

    def usable_at(self, now: datetime) -> bool:
        return self.revoked_at is None and self.expires_at > now

    def revoke(self, *, now: datetime, actor: str | None) -> bool:
        """Revoke once; False (and no event) when it already was."""
        if self.revoked_at is not None:
            return False
        self.revoked_at = now
        self.events.append(
            ApiKeyRevoked(aggregate_id=self.id, occurred_at=now, actor=actor, prefix=self.prefix)
        )
        return True

    def rotate(
        self, *, hashed_secret: str, lifetime: timedelta, now: datetime, actor: str | None
    ) -> None:
        """A new secret under the same prefix (the old one stops working) and a new expiry."""
        if self.revoked_at is not None:
            raise DomainError("a revoked key cannot be rotated; create a new one", field="id")
        self.hashed_secret = hashed_secret
        self.expires_at = now + lifetime
        self.events.append(
            ApiKeyRotated(
                aggregate_id=self.id,
                occurred_at=now,
                actor=actor,
                prefix=self.prefix,
                expires_at=self.expires_at,
            )
        )
