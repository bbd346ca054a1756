"""API key handlers: issue, revoke, rotate (evicting every process's cached checks, or failing),
and the periodic flush of gathered key usage into `last_used_at`.

A caller may revoke or rotate only a key whose every scope it holds: rotating hands the key's
powers to whoever gets the new secret, and revoking an admin's key locks the admin out."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping
from datetime import datetime
from uuid import UUID

from app.auth.commands import CreateApiKey, IssuedKey, RevokeApiKey, RotateApiKey
from app.auth.ports import KeyUsage, KeyView, SecretHasher
from app.cache import invalidating
from app.errors import Forbidden, NotFound
from app.logs.ports import LogLevel
from app.ports import Cache, UnitOfWork, UnitOfWorkFactory
from domain.auth.keys import ApiKey, full_key, lifetime, new_key_material
from domain.auth.permissions import Permission, lacking, parse_scopes

# Cache prefix of successful key checks (app.auth.authenticate); evicting it reaches every
# process sharing the cache, since eviction bumps the prefix's generation in Redis.
KEY_CHECKS = "api-key-checks"
_CHECKS = "the key's cached checks"

MakeKey = Callable[[], tuple[str, str]]


def key_view(key: ApiKey) -> KeyView:
    return KeyView(
        id=key.id,
        name=key.name,
        prefix=key.prefix,
        scopes=tuple(sorted(s.value for s in key.scopes)),
        expires_at=key.expires_at,
        created_by=key.created_by,
        created_at=key.created_at,
        last_used_at=key.last_used_at,
        revoked_at=key.revoked_at,
    )


async def create_api_key(
    cmd: CreateApiKey,
    *,
    uow: UnitOfWorkFactory,
    hasher: SecretHasher,
    now: Callable[[], datetime],
    new_id: Callable[[], UUID],
    default_days: int,
    make_key: MakeKey = new_key_material,
) -> IssuedKey:
    scopes = parse_scopes(cmd.scopes)
    if cmd.held is not None and (beyond := lacking(cmd.held, scopes)):
        raise Forbidden(
            f"cannot grant {', '.join(beyond)}: the caller does not hold it", field="scopes"
        )
    life = lifetime(default_days if cmd.expires_in_days is None else cmd.expires_in_days)
    prefix, secret = make_key()
    # Argon2 is deliberately slow: keep it off the event loop.
    hashed = await asyncio.to_thread(hasher.hash, secret)
    key = ApiKey.issue(
        id=new_id(),
        name=cmd.name,
        prefix=prefix,
        hashed_secret=hashed,
        scopes=scopes,
        lifetime=life,
        now=now(),
        actor=cmd.actor,
    )
    async with uow(actor=cmd.actor, correlation_id=cmd.correlation_id) as unit:
        await unit.api_keys.add(key)
        unit.record(key.events)
        _logged(unit, key, "created", cmd.actor)
        await unit.commit()
    return IssuedKey(key=key_view(key), secret=full_key(prefix, secret))


def _logged(unit: UnitOfWork, key: ApiKey, what: str, actor: str | None) -> None:
    unit.logs.add(
        LogLevel.INFO,
        f"API key {key.prefix} ({key.name}) {what} by {actor or 'the system'}",
        metadata={"key_id": str(key.id), "prefix": key.prefix, "scopes": list(key.scopes)},
    )


def _may_manage(key: ApiKey, held: frozenset[Permission] | None, verb: str) -> None:
    if held is not None and (beyond := lacking(held, key.scopes)):
        raise Forbidden(
            f"cannot {verb} this key: it holds {', '.join(beyond)}, which the caller does not",
            field="id",
        )


async def revoke_api_key(
    cmd: RevokeApiKey,
    *,
    uow: UnitOfWorkFactory,
    cache: Cache | None,
    now: Callable[[], datetime],
) -> KeyView:
    async def revoke() -> KeyView:
        async with uow(actor=cmd.actor, correlation_id=cmd.correlation_id) as unit:
            key = await unit.api_keys.get(cmd.id)
            if key is None:
                raise NotFound("no API key has this id", field="id")
            _may_manage(key, cmd.held, "revoke")
            # Revoking a revoked key changes nothing, and still confirms the eviction: the
            # way to confirm a revoke whose eviction Redis could not confirm.
            if key.revoke(now=now(), actor=cmd.actor):
                await unit.api_keys.save(key)
                unit.record(key.events)
                _logged(unit, key, "revoked", cmd.actor)
                await unit.commit()
        return key_view(key)

    return await invalidating(cache, KEY_CHECKS, revoke, what=_CHECKS)


async def rotate_api_key(
    cmd: RotateApiKey,
    *,
    uow: UnitOfWorkFactory,
    cache: Cache | None,
    hasher: SecretHasher,
    now: Callable[[], datetime],
    default_days: int,
    make_key: MakeKey = new_key_material,
) -> IssuedKey:
    """The key with its new secret. If the eviction after the commit is not confirmed, that
    answer rides on `Unconfirmed.result`: the new secret is committed, it must not be lost."""
    life = lifetime(default_days if cmd.expires_in_days is None else cmd.expires_in_days)
    _, secret = make_key()
    hashed = await asyncio.to_thread(hasher.hash, secret)

    async def rotate() -> IssuedKey:
        async with uow(actor=cmd.actor, correlation_id=cmd.correlation_id) as unit:
            key = await unit.api_keys.get(cmd.id)
            if key is None:
                raise NotFound("no API key has this id", field="id")
            _may_manage(key, cmd.held, "rotate")
            key.rotate(hashed_secret=hashed, lifetime=life, now=now(), actor=cmd.actor)
            await unit.api_keys.save(key)
            unit.record(key.events)
            _logged(unit, key, "rotated", cmd.actor)
            await unit.commit()
        return IssuedKey(key=key_view(key), secret=full_key(key.prefix, secret))

    return await invalidating(cache, KEY_CHECKS, rotate, what=_CHECKS)


async def flush_key_usage(
    *, usage: KeyUsage, write: Callable[[Mapping[UUID, datetime]], Awaitable[int]]
) -> int:
    """Write the usage gathered since the last flush in one statement; keep it on failure."""
    batch = await usage.drain()
    if not batch:
        return 0
    try:
        return await write(batch)
    except BaseException:
        await usage.restore(batch)
        raise
