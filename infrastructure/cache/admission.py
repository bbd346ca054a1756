"""Authentication's hot path in one call: cached check, rate limit, usage."""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any
from uuid import UUID

import orjson

from app.auth.ports import Admission, Verdict
from app.responses import Probe, caller_key
from infrastructure.cache.failopen import FailOpen
from infrastructure.cache.key_usage import MemoryKeyUsage, RedisKeyUsage
from infrastructure.cache.memory import MemoryCache
from infrastructure.cache.rate_limits import MemoryRateLimiter, RedisRateLimiter, verdict_of
from infrastructure.cache.redis import RedisCache
from infrastructure.cache.responses import RESPONSE_STEM, RESPONSES
from infrastructure.cache.scripts import LuaScript

log = logging.getLogger("visapi.admission")

# The same steps as the separate scripts (redis._GET, rate_limits._HIT, the usage ZADD GT), in
# one round trip. Keys are built inside the script: one Redis, no cluster.
# KEYS[1] generation of the cache prefix, KEYS[2] usage sorted set; ARGV[1] value key stem,
# ARGV[2] entry, ARGV[3] rate-limit key stem, ARGV[4] window ms, ARGV[5] now (epoch s),
# ARGV[6] '1' to mark usage. Answers {1} (miss: nothing counted) or {2, value, n, pttl}.
# With a response probe (infrastructure.cache.responses): ARGV[7] the answer's key stem but
# the caller's part, KEYS[3..] the generation keys of its prefixes; the answer's key is then
# completed with the SHA-1 of the check's permissions (app.responses.caller_key) and the
# generations, and the reply gains {generations, answer or nothing}.
_ADMIT = """
local gen = redis.call('GET', KEYS[1]) or '0'
local value = redis.call('GET', ARGV[1] .. ':' .. gen .. ':' .. ARGV[2])
if not value then return {1} end
local ok, check = pcall(cjson.decode, value)
if not ok or type(check) ~= 'table' or type(check.id) ~= 'string'
    or type(check.kind) ~= 'string' then return {1} end
if type(check.exp) == 'number' and check.exp <= tonumber(ARGV[5]) then return {1} end
local bucket = ARGV[3] .. check.kind .. ':' .. check.id
local n = redis.call('INCR', bucket)
if n == 1 then redis.call('PEXPIRE', bucket, ARGV[4]) end
local ttl = redis.call('PTTL', bucket)
if ttl < 0 then redis.call('PEXPIRE', bucket, ARGV[4]); ttl = tonumber(ARGV[4]) end
if ARGV[6] == '1' then redis.call('ZADD', KEYS[2], 'GT', ARGV[5], check.id) end
if ARGV[7] == '' or type(check.permissions) ~= 'table' then return {2, value, n, ttl} end
local gens = {}
for i = 3, #KEYS do gens[#gens + 1] = redis.call('GET', KEYS[i]) or '0' end
local g = table.concat(gens, '.')
local held = redis.sha1hex(table.concat(check.permissions, ','))
return {2, value, n, ttl, g, redis.call('GET', ARGV[7] .. ':' .. held .. ':' .. g)}
"""


class RedisAdmissions:
    """One EVALSHA per admission, over the keys of the cache, limiter and usage given."""

    def __init__(self, cache: RedisCache, limiter: RedisRateLimiter, usage: RedisKeyUsage) -> None:
        self._cache = cache
        self._rl_stem = f"{limiter.namespace}:rl:"
        self._usage_key = usage.key
        self._rc_stem = RESPONSE_STEM.format(namespace=cache.namespace)
        self._admit = LuaScript(cache.client, _ADMIT)
        self._guard = FailOpen("authentication", log)

    @property
    def failures(self) -> int:
        return self._guard.failures

    async def admit(
        self,
        prefix: str,
        entry: str,
        *,
        limit: int,
        window_s: float,
        at: datetime,
        mark_usage: bool,
        probe: Probe | None = None,
    ) -> Admission | None:
        gen_key, stem = self._cache.keys_of(prefix)
        window_ms = max(1, round(window_s * 1000))
        keys = [gen_key, self._usage_key]
        args: list[Any] = [stem, entry, self._rl_stem, window_ms, at.timestamp()]
        args.append("1" if mark_usage else "0")
        if probe is not None:
            keys += [self._cache.keys_of(p)[0] for p in probe.prefixes]
            args.append(self._rc_stem + probe.key)
        else:
            args.append("")
        reply = await self._guard(self._admit, keys, args)
        if reply is None:
            return None
        if int(reply[0]) == 1:
            return Admission()  # the miss is counted by the slow path's own lookup
        self._cache.note_hit(prefix)
        verdict = _verdict(reply[2], reply[3], limit, window_s)
        answer = None
        if len(reply) > 4:  # a nil answer ends the reply: a miss
            answer = (reply[5] if len(reply) > 5 else None, reply[4].decode())
        return Admission(cached=reply[1], verdict=verdict, answer=answer)


def _verdict(count: Any, ttl_ms: Any, limit: int, window_s: float) -> Verdict:
    ttl = int(ttl_ms)
    return verdict_of(int(count), limit, ttl / 1000 if ttl > 0 else window_s, counted=True)


class MemoryAdmissions:
    """The same steps on the in-process backends (nothing to save: no round trips)."""

    failures = 0

    def __init__(
        self, cache: MemoryCache, limiter: MemoryRateLimiter, usage: MemoryKeyUsage
    ) -> None:
        self._cache = cache
        self._limiter = limiter
        self._usage = usage

    async def admit(
        self,
        prefix: str,
        entry: str,
        *,
        limit: int,
        window_s: float,
        at: datetime,
        mark_usage: bool,
        probe: Probe | None = None,
    ) -> Admission | None:
        value = self._cache.peek_now(prefix, entry)
        check = _parsed(value)
        if value is None or check is None:
            return Admission()
        exp = check.get("exp")
        if isinstance(exp, int | float) and exp <= at.timestamp():
            return Admission()
        self._cache.get_now(prefix, entry)  # counts the hit
        verdict = await self._limiter.hit(f"{check['kind']}:{check['id']}", limit, window_s)
        if mark_usage:
            await self._usage.touch(UUID(check["id"]), at)
        answer = None
        permissions = check.get("permissions")
        if probe is not None and isinstance(permissions, list):
            key = caller_key(probe.key, permissions)
            answer = self._cache.lookup_depending(RESPONSES, key, probe.prefixes)
        return Admission(cached=value, verdict=verdict, answer=answer)


def _parsed(value: bytes | None) -> dict[str, Any] | None:
    if value is None:
        return None
    try:
        check = orjson.loads(value)
    except orjson.JSONDecodeError:
        return None
    if not isinstance(check, dict):
        return None
    if not isinstance(check.get("id"), str) or not isinstance(check.get("kind"), str):
        return None
    return check
