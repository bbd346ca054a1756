"""API key handlers: issue, revoke, rotate (evicting every process's cached checks), and the
periodic flush of gathered key usage into `last_used_at`."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping
from datetime import datetime
from uuid import UUID

from app.auth.commands import CreateApiKey, IssuedKey, RevokeApiKey, RotateApiKey
from app.auth.ports import KeyUsage, KeyView, SecretHasher
from app.cache import cache_evict
from app.errors import Forbidden, NotFound
from app.ports import Cache, UnitOfWorkFactory
from domain.auth.keys import ApiKey, full_key, lifetime, new_key_material
from domain.auth.permissions import grants, parse_scopes

# Cache prefix of successful key checks (app.auth.authenticate); evicting it reaches every
# process sharing the cache, since eviction bumps the prefix's generation in Redis.
KEY_CHECKS = "api-key-checks"

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
    if cmd.held is not None:
        beyond = sorted(s.value for s in scopes if not grants(cmd.held, s))
        if beyond:
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
        await unit.commit()
    return IssuedKey(key=key_view(key), secret=full_key(prefix, secret))


@cache_evict(KEY_CHECKS)
async def revoke_api_key(
    cmd: RevokeApiKey,
    *,
    uow: UnitOfWorkFactory,
    cache: Cache | None,
    now: Callable[[], datetime],
) -> KeyView:
    async with uow(actor=cmd.actor, correlation_id=cmd.correlation_id) as unit:
        key = await unit.api_keys.get(cmd.id)
        if key is None:
            raise NotFound("no API key has this id", field="id")
        if key.revoke(now=now(), actor=cmd.actor):
            await unit.api_keys.save(key)
            unit.record(key.events)
            await unit.commit()
    return key_view(key)


@cache_evict(KEY_CHECKS)
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
    life = lifetime(default_days if cmd.expires_in_days is None else cmd.expires_in_days)
    _, secret = make_key()
    hashed = await asyncio.to_thread(hasher.hash, secret)
    async with uow(actor=cmd.actor, correlation_id=cmd.correlation_id) as unit:
        key = await unit.api_keys.get(cmd.id)
        if key is None:
            raise NotFound("no API key has this id", field="id")
        key.rotate(hashed_secret=hashed, lifetime=life, now=now(), actor=cmd.actor)
        await unit.api_keys.save(key)
        unit.record(key.events)
        await unit.commit()
    return IssuedKey(key=key_view(key), secret=full_key(key.prefix, secret))


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
