"""The access slice: hashing, tokens, key checks, usage, rate limits and the key/user handlers."""

from __future__ import annotations

import logging
import secrets
from collections.abc import Mapping
from functools import partial

from app.auth.access import Access
from app.auth.admit import Limits, admit_cached
from app.auth.authenticate import authenticate, check_key, check_token, key_digest
from app.auth.commands import CreateApiKey, RevokeApiKey, RotateApiKey, SetUserRole
from app.auth.keys import create_api_key, flush_key_usage, revoke_api_key, rotate_api_key
from app.auth.lockout import Lockout
from app.auth.ports import Admissions, KeyUsage, RateLimiter, TokenVerifier
from app.auth.users import ensure_user, set_user_role
from app.bus import CommandHandler
from app.jobs import JobPolicy
from infrastructure.auth.verifiers import Argon2Hasher, JwtTokens, NoTokens, load_public_key
from infrastructure.cache.admission import MemoryAdmissions, RedisAdmissions
from infrastructure.cache.key_usage import MemoryKeyUsage, RedisKeyUsage
from infrastructure.cache.memory import MemoryCache
from infrastructure.cache.rate_limits import MemoryRateLimiter, RedisRateLimiter
from infrastructure.cache.redis import RedisCache
from infrastructure.db.access_reads import SqlAccessReads, write_last_used
from visapi.platform import Platform
from visapi.settings import Settings, SettingsError
from visapi.slices import Slice

log = logging.getLogger("visapi.access")

JOBS: Mapping[type, JobPolicy] = {}  # key and user changes cause no job


def token_verifier(settings: Settings) -> TokenVerifier:
    """HS256 with VISAPI_JWT_SECRET or RS256 with VISAPI_JWT_PUBLIC_KEY; neither: no tokens."""
    issuer, audience = settings.jwt_issuer or "", settings.jwt_audience or ""
    if settings.jwt_secret:
        return JwtTokens(
            key=settings.jwt_secret, algorithm="HS256", issuer=issuer, audience=audience
        )
    if settings.jwt_public_key:
        try:
            key = load_public_key(settings.jwt_public_key)
        except (ValueError, TypeError) as exc:
            raise SettingsError(
                f"VISAPI_JWT_PUBLIC_KEY is not a PEM RSA public key: {exc}"
            ) from None
        return JwtTokens(key=key, algorithm="RS256", issuer=issuer, audience=audience)
    return NoTokens()


def _hmac_key(settings: Settings) -> bytes:
    if settings.secret_key:
        return settings.secret_key.encode()
    if not settings.embedded:
        log.warning(
            "VISAPI_SECRET_KEY is unset: each process caches API key checks under its own key"
        )
    return secrets.token_bytes(32)


def build(p: Platform) -> Slice[Access]:
    settings, engine, cache, uow, now = p.settings, p.engine, p.cache, p.uow, p.now
    hasher = Argon2Hasher(settings.api_key_hash_cost)
    # Credential checks read the primary, never a replica: a key revoked or rotated a moment
    # ago must already fail, and the re-read that guards the cache must see the commit.
    reads = SqlAccessReads(engine)
    limiter, usage, admissions = _counters(p)
    digest = key_digest(_hmac_key(settings))
    tokens = token_verifier(settings)
    admit = None
    if admissions is not None:
        limits = Limits(window_s=settings.rate_limit_window_s, per_key=settings.rate_limit_per_key)
        admit = partial(
            admit_cached,
            admissions=admissions,
            digest=digest,
            tokens=tokens,
            limits=limits,
            now=now,
        )
    key_check = partial(
        check_key,
        reads=reads,
        hasher=hasher,
        cache=cache,
        usage=usage,
        digest=digest,
        ttl_s=settings.api_key_cache_ttl_s,
        now=now,
    )
    token_check = partial(
        check_token,
        tokens=tokens,
        reads=reads,
        cache=cache,
        ttl_s=settings.user_cache_ttl_s,
        ensure_user=partial(ensure_user, uow=uow, reads=reads, now=now, new_id=p.new_id),
    )
    access = Access(
        reads=reads,
        authenticate=partial(authenticate, check_key=key_check, check_token=token_check),
        admit=admit,
        limiter=limiter,
        lockout=Lockout(limiter, settings.rate_limit_failed_auth, settings.rate_limit_window_s),
        usage=usage,
        flush_usage=partial(flush_key_usage, usage=usage, write=partial(write_last_used, engine)),
    )
    return Slice(access, _commands(p, hasher))


def _counters(p: Platform) -> tuple[RateLimiter, KeyUsage, Admissions | None]:
    """Rate limits and key usage on Redis when configured, else in memory; the one-call
    admission path only where they share the cache's backend (and namespace)."""
    namespace, cache = p.settings.redis_namespace, p.cache
    if p.redis is not None:
        limiter, usage = RedisRateLimiter(p.redis, namespace), RedisKeyUsage(p.redis, namespace)
        if isinstance(cache, RedisCache) and cache.namespace == namespace:
            return limiter, usage, RedisAdmissions(cache, limiter, usage)
        return limiter, usage, None
    # The embedded worker flushes the API's own usage (p.replaced.key_usage).
    shared = p.replaced.key_usage
    memory_usage = shared if isinstance(shared, MemoryKeyUsage) else MemoryKeyUsage()
    memory_limiter = MemoryRateLimiter()
    admissions = (
        MemoryAdmissions(cache, memory_limiter, memory_usage)
        if isinstance(cache, MemoryCache)
        else None
    )
    return memory_limiter, memory_usage, admissions


def _commands(p: Platform, hasher: Argon2Hasher) -> dict[type, CommandHandler]:
    uow, cache, now, days = p.uow, p.cache, p.now, p.settings.api_key_expiry_days
    return {
        CreateApiKey: partial(
            create_api_key, uow=uow, hasher=hasher, now=now, new_id=p.new_id, default_days=days
        ),
        RevokeApiKey: partial(revoke_api_key, uow=uow, cache=cache, now=now),
        RotateApiKey: partial(
            rotate_api_key, uow=uow, cache=cache, hasher=hasher, now=now, default_days=days
        ),
        SetUserRole: partial(set_user_role, uow=uow, cache=cache, now=now),
    }
