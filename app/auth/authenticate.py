"""Credential checks: API keys (the slow hash once per key and cache lifetime) and bearer JWTs."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any
from uuid import UUID

from app.auth.keys import KEY_CHECKS
from app.auth.ports import (
    AccessReads,
    Claims,
    InvalidToken,
    KeyUsage,
    SecretHasher,
    StoredKey,
    TokenVerifier,
    UserView,
)
from app.auth.users import USERS
from app.codec import dumps, loads
from app.errors import Unauthenticated
from app.ports import Cache
from domain.auth.keys import split_key
from domain.auth.permissions import ROLE_PERMISSIONS, Permission, Principal, PrincipalKind, Role

# A cached entry that no longer decodes (its shape changed in a deploy) is a miss.
_DECODE_ERRORS = (ValueError, TypeError, KeyError)


class CredentialKind(StrEnum):
    API_KEY = "api_key"
    TOKEN = "token"


@dataclass(frozen=True)
class Credential:
    kind: CredentialKind
    value: str = field(repr=False)  # never in a repr, so never in a log line


def key_digest(secret_key: bytes) -> Callable[[str], str]:
    """HMAC-SHA256 of a full key: the cache key of its check, useless without `secret_key`."""

    def digest(presented: str) -> str:
        return hmac.new(secret_key, presented.encode(), hashlib.sha256).hexdigest()

    return digest


def _encode(p: Principal) -> bytes:
    # "kind" and "id" name the rate-limit bucket for the admission script too.
    return dumps(
        {
            "kind": p.kind.value,
            "id": str(p.id),
            "name": p.name,
            "permissions": sorted(p.permissions),
            "role": p.role.value if p.role else None,
            "prefix": p.key_prefix,
            "expires_at": p.expires_at.isoformat() if p.expires_at else None,
            # For the admission script (app.auth.ports.Admissions), which reads no ISO dates.
            "exp": p.expires_at.timestamp() if p.expires_at else None,
        }
    )


def decode_principal(data: bytes) -> Principal | None:
    try:
        raw: dict[str, Any] = loads(data)
        return Principal(
            kind=PrincipalKind(raw["kind"]),
            id=UUID(raw["id"]),
            name=raw["name"],
            permissions=frozenset(Permission(p) for p in raw["permissions"]),
            role=Role(raw["role"]) if raw["role"] else None,
            key_prefix=raw["prefix"],
            expires_at=datetime.fromisoformat(raw["expires_at"]) if raw["expires_at"] else None,
        )
    except _DECODE_ERRORS:
        return None


def _key_principal(k: StoredKey) -> Principal:
    return Principal(
        kind=PrincipalKind.API_KEY,
        id=k.id,
        name=k.name,
        permissions=k.scopes,
        key_prefix=k.prefix,
        expires_at=k.expires_at,
    )


def _same(a: StoredKey, b: StoredKey | None) -> bool:
    return b is not None and (a.hashed_secret, a.revoked_at, a.expires_at) == (
        b.hashed_secret,
        b.revoked_at,
        b.expires_at,
    )


async def _verify_key(
    prefix: str, secret: str, *, reads: AccessReads, hasher: SecretHasher, at: datetime
) -> StoredKey:
    stored = await reads.key_by_prefix(prefix)
    if stored is None:
        raise Unauthenticated("invalid API key")
    if not await asyncio.to_thread(hasher.verify, stored.hashed_secret, secret):
        raise Unauthenticated("invalid API key")
    # State is told only to a caller who proved the secret.
    if stored.revoked_at is not None:
        raise Unauthenticated("API key revoked")
    if stored.expires_at <= at:
        raise Unauthenticated("API key expired")
    return stored


async def check_key(
    presented: str,
    *,
    reads: AccessReads,
    hasher: SecretHasher,
    cache: Cache | None,
    usage: KeyUsage,
    digest: Callable[[str], str],
    ttl_s: float,
    now: Callable[[], datetime],
) -> Principal:
    parts = split_key(presented)
    if parts is None:
        raise Unauthenticated("malformed API key: expected <prefix>.<secret>")
    at = now()
    entry = digest(presented)
    data, generation = await cache.lookup(KEY_CHECKS, entry) if cache is not None else (None, None)
    principal = decode_principal(data) if data is not None else None
    if principal is None:
        stored = await _verify_key(*parts, reads=reads, hasher=hasher, at=at)
        principal = _key_principal(stored)
        if cache is not None and generation is not None:
            life = min(ttl_s, (stored.expires_at - at).total_seconds())
            # Only into the generation looked up before the read: a revoke or rotate evicts
            # (and seals) before it commits, so a row read before its commit is never stored
            # in a generation that outlives it (app.cache.invalidating).
            await cache.set(KEY_CHECKS, entry, _encode(principal), life, generation=generation)
            # A second guard, should a writer ever change a key without sealing: read again,
            # after the write, and take the entry back if the row changed meanwhile.
            if not _same(stored, await reads.key_by_prefix(stored.prefix)):
                await cache.delete(KEY_CHECKS, entry)
                raise Unauthenticated("API key revoked")
    elif principal.expires_at is not None and principal.expires_at <= at:
        raise Unauthenticated("API key expired")
    await usage.touch(principal.id, at)
    return principal


def subject_key(subject: str) -> str:
    # Subjects may be emails at some providers: keep them out of cache key names.
    return hashlib.sha256(subject.encode()).hexdigest()


def _user_principal(user: UserView) -> Principal:
    return Principal(
        kind=PrincipalKind.USER,
        id=user.id,
        name=user.email,
        permissions=ROLE_PERMISSIONS[user.role],
        role=user.role,
    )


async def check_token(
    token: str,
    *,
    tokens: TokenVerifier,
    reads: AccessReads,
    cache: Cache | None,
    ttl_s: float,
    ensure_user: Callable[[Claims], Awaitable[UserView]],
) -> Principal:
    try:
        claims = tokens.verify(token)
    except InvalidToken as exc:
        raise Unauthenticated(str(exc)) from None
    entry = subject_key(claims.subject)
    data, generation = await cache.lookup(USERS, entry) if cache is not None else (None, None)
    principal = decode_principal(data) if data is not None else None
    if principal is not None:
        return principal
    user = await ensure_user(claims)
    principal = _user_principal(user)
    if cache is not None and generation is not None:
        # As for keys: only into the generation looked up before the read.
        await cache.set(USERS, entry, _encode(principal), ttl_s, generation=generation)
        # As for keys: a role change committed meanwhile must not stay cached.
        again = await reads.user_by_subject(claims.subject)
        if again is None or again.role is not user.role:
            await cache.delete(USERS, entry)
            if again is None:
                raise Unauthenticated("unknown user")
            principal = _user_principal(again)
    return principal


async def authenticate(
    credential: Credential,
    *,
    check_key: Callable[[str], Awaitable[Principal]],
    check_token: Callable[[str], Awaitable[Principal]],
) -> Principal:
    """The caller behind a credential, or Unauthenticated saying why (never echoing it)."""
    if credential.kind is CredentialKind.TOKEN:
        return await check_token(credential.value)
    return await check_key(credential.value)
