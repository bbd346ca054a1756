"""Adapters of app.responses.ResponseStore: whole answers keyed by the generations of the cache
prefixes they depend on, over the same generation (and seal) keys as the Cache adapters, so a
write's `evict` reaches them with no extra work."""

from __future__ import annotations

import logging
from collections.abc import Sequence

from app.ports import SEAL_LEASE_S
from infrastructure.cache.failopen import FailOpen
from infrastructure.cache.memory import MemoryCache
from infrastructure.cache.redis import RedisCache
from infrastructure.cache.scripts import LuaScript

log = logging.getLogger("visapi.cache")

# Entries live at `{ns}:rc:{key}:{g1.g2...}`: the generations of the prefixes (sorted) are part
# of the key, so an eviction leaves the old entry unreachable (it expires by its TTL). The
# admission script (infrastructure.cache.admission) builds the same keys.
RESPONSE_STEM = "{namespace}:rc:"
# KEYS = the prefixes' generation keys; ARGV[1] = the entry's stem. Answers {generations, value}.
_LOOKUP = """
local gens = {}
for i = 1, #KEYS do gens[i] = redis.call('GET', KEYS[i]) or '0' end
local g = table.concat(gens, '.')
return {g, redis.call('GET', ARGV[1] .. ':' .. g)}
"""
# KEYS = n generation keys, then the n prefixes' seal sets; ARGV[1] stem, ARGV[2] generations
# looked up before computing the answer, ARGV[3] value, ARGV[4] ttl ms, ARGV[5] seal lease ms.
# Stored only if no prefix is sealed and none was evicted since: as redis._SET, per prefix.
_STORE = """
local n = #KEYS / 2
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
for i = 1, n do
  if redis.call('ZREMRANGEBYSCORE', KEYS[n + i], '-inf', now - tonumber(ARGV[5])) > 0 then
    redis.call('INCR', KEYS[i])
    return false
  end
  if redis.call('EXISTS', KEYS[n + i]) == 1 then return false end
end
local gens = {}
for i = 1, n do gens[i] = redis.call('GET', KEYS[i]) or '0' end
local g = table.concat(gens, '.')
if g ~= ARGV[2] then return false end
return redis.call('SET', ARGV[1] .. ':' .. g, ARGV[3], 'PX', ARGV[4])
"""


class RedisResponses:
    """One EVALSHA per lookup and per store; a Redis failure is a miss (and no store)."""

    def __init__(self, cache: RedisCache) -> None:
        self._cache = cache
        self._stem = RESPONSE_STEM.format(namespace=cache.namespace)
        self._lookup = LuaScript(cache.client, _LOOKUP)
        self._store = LuaScript(cache.client, _STORE)
        self._guard = FailOpen("response cache", log)

    @property
    def failures(self) -> int:
        return self._guard.failures

    async def lookup(self, key: str, prefixes: Sequence[str]) -> tuple[bytes | None, str | None]:
        generations = [self._cache.keys_of(p)[0] for p in prefixes]
        reply = await self._guard(self._lookup, generations, [self._stem + key])
        if reply is None:
            return None, None
        generation, value = reply
        return value, generation.decode() if isinstance(generation, bytes) else str(generation)

    async def store(
        self, key: str, prefixes: Sequence[str], generations: str, value: bytes, ttl: float
    ) -> None:
        keys = [self._cache.keys_of(p)[0] for p in prefixes]
        keys += [self._cache.seals_of(p) for p in prefixes]
        ms = max(1, round(ttl * 1000))  # finite: the max age setting caps every answer's
        lease = round(SEAL_LEASE_S * 1000)
        await self._guard(self._store, keys, [self._stem + key, generations, value, ms, lease])


# The MemoryCache prefix the entries live under (never evicted itself: their key holds the
# generations that matter).
RESPONSES = "responses"


class MemoryResponses:
    """The embedded backend: entries in the app's MemoryCache, beside the generations."""

    def __init__(self, cache: MemoryCache) -> None:
        self._cache = cache

    async def lookup(self, key: str, prefixes: Sequence[str]) -> tuple[bytes | None, str | None]:
        return self._cache.lookup_depending(RESPONSES, key, prefixes)

    async def store(
        self, key: str, prefixes: Sequence[str], generations: str, value: bytes, ttl: float
    ) -> None:
        self._cache.set_depending(
            RESPONSES, key, value, ttl, depends=prefixes, generations=generations
        )
