"""Redis adapter of the Cache port: one round trip per call, fails open when Redis is down."""

from __future__ import annotations

import logging
import math
import time
from collections import Counter
from typing import Any

import redis.asyncio
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import RedisError
from redis.exceptions import TimeoutError as RedisTimeoutError

from app.metrics import NO_METRICS, Metrics
from app.ports import SEAL_LEASE_S, CacheUnavailable
from infrastructure.cache.scripts import LuaScript

log = logging.getLogger("visapi.cache")

# The scripts read the prefix's generation and touch the value key in one round trip. The value
# key is built inside the script, so this assumes one Redis (no cluster), as DESIGN.md does.
# KEYS[1] = generation key; ARGV[1] = value key stem, ARGV[2] = key, ARGV[3] = value, ARGV[4] = ms,
# ARGV[5] = the generation a `set` is for ('' = the current one).
# _GET answers {generation, value or nil}, so a read-through miss can store under that generation.
_GET = """
local gen = redis.call('GET', KEYS[1]) or '0'
return {gen, redis.call('GET', ARGV[1] .. ':' .. gen .. ':' .. ARGV[2])}
"""
# A value computed before an eviction (generation no longer current) is not stored at all, nor
# any value while the prefix is sealed (KEYS[2], a sorted set of seal tokens by the Redis time
# they were set at; ARGV[6] = lease ms). Redis's own clock: processes' clocks may differ. A seal
# that outlived its lease (its unseal never came) is dropped with one more eviction, so that a
# store queued before it lapsed (a paused Redis runs its backlog) finds its generation dead.
_SET = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
if redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now - tonumber(ARGV[6])) > 0 then
  redis.call('INCR', KEYS[1])
  return false
end
if redis.call('EXISTS', KEYS[2]) == 1 then return false end
local gen = redis.call('GET', KEYS[1]) or '0'
if ARGV[5] ~= '' and tonumber(ARGV[5]) ~= tonumber(gen) then return false end
local key = ARGV[1] .. ':' .. gen .. ':' .. ARGV[2]
if ARGV[4] == '0' then return redis.call('SET', key, ARGV[3]) end
return redis.call('SET', key, ARGV[3], 'PX', ARGV[4])
"""
# KEYS[1] generation, KEYS[2] seals; ARGV[1] token. Both answer the new generation.
_SEAL = """
local t = redis.call('TIME')
redis.call('ZADD', KEYS[2], tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000), ARGV[1])
return redis.call('INCR', KEYS[1])
"""
_UNSEAL = """
redis.call('ZREM', KEYS[2], ARGV[1])
return redis.call('INCR', KEYS[1])
"""
_DEL = """
local gen = redis.call('GET', KEYS[1]) or '0'
return redis.call('DEL', ARGV[1] .. ':' .. gen .. ':' .. ARGV[2])
"""

# Errors that mean "Redis is unreachable": they open the breaker. Other RedisErrors are counted
# and logged but do not stop the next call.
_DOWN = (RedisConnectionError, RedisTimeoutError, OSError)
BREAKER_SECONDS = 1.0
LOG_EVERY_SECONDS = 10.0


def redis_client(url: str) -> redis.asyncio.Redis:
    """A client that fails fast: 1 s timeouts and no retries, since a cache miss is cheaper."""
    return redis.asyncio.Redis.from_url(
        url,
        socket_connect_timeout=1.0,
        socket_timeout=1.0,
        health_check_interval=30,
        retry=Retry(NoBackoff(), 0),
    )


class RedisCache:
    """Values live at `{ns}:c:{prefix}:{gen}:{key}` (PX ttl); `evict` INCRs `{ns}:gen:{prefix}`.

    Old generations are never scanned: their keys expire by ttl. `lookup` also answers the
    generation it read, and `set(generation=g)` stores only while `g` is current (each one round
    trip), so a value computed before an `evict` never becomes current; `seal` refuses stores
    until `unseal` (see app.cache.invalidating). No call but those two raises on a Redis
    failure: reads miss, writes are skipped, and after a connection failure Redis is not tried
    again for `BREAKER_SECONDS`. `stats()` counts hits and misses per prefix (a failed or skipped
    read is a miss); `error_count()` counts calls that could not use Redis, per prefix or in total.
    """

    def __init__(
        self, client: redis.asyncio.Redis, namespace: str = "visapi", metrics: Metrics = NO_METRICS
    ) -> None:
        self.client = client
        self.namespace = namespace
        self._metrics = metrics
        self._get = LuaScript(client, _GET)
        self._set = LuaScript(client, _SET)
        self._del = LuaScript(client, _DEL)
        self._seal = LuaScript(client, _SEAL)
        self._unseal = LuaScript(client, _UNSEAL)
        self._hits: Counter[str] = Counter()
        self._misses: Counter[str] = Counter()
        self._errors: Counter[str] = Counter()
        self._closed_until = 0.0  # breaker: monotonic time before which Redis is skipped
        self._failing = False
        self._logged_at = -math.inf
        self._suppressed = 0

    def keys_of(self, prefix: str) -> tuple[str, str]:
        return f"{self.namespace}:gen:{prefix}", f"{self.namespace}:c:{prefix}"

    def seals_of(self, prefix: str) -> str:
        return f"{self.namespace}:seals:{prefix}"

    async def get(self, prefix: str, key: str) -> bytes | None:
        return (await self.lookup(prefix, key))[0]

    async def lookup(self, prefix: str, key: str) -> tuple[bytes | None, int | None]:
        gen_key, stem = self.keys_of(prefix)
        reply = await self._call(prefix, self._get, [gen_key], [stem, key])
        if reply is None:  # Redis skipped or failed: a miss, and nothing may be stored
            self._misses[prefix] += 1
            self._metrics.cache_lookup(prefix, False)
            return None, None
        # bytes, as long as the client keeps decode_responses=False (the default).
        generation, value = reply
        if value is None:
            self._misses[prefix] += 1
        else:
            self._hits[prefix] += 1
        self._metrics.cache_lookup(prefix, value is not None)
        return value, int(generation)

    async def set(
        self, prefix: str, key: str, value: bytes, ttl: float, *, generation: int | None = None
    ) -> None:
        gen_key, stem = self.keys_of(prefix)
        # PX needs a positive integer; 0 is the scripts' "no expiry" for ttl=inf.
        ms = 0 if math.isinf(ttl) else max(1, round(ttl * 1000))
        expected = "" if generation is None else generation
        lease = round(SEAL_LEASE_S * 1000)
        keys = [gen_key, self.seals_of(prefix)]
        await self._call(prefix, self._set, keys, [stem, key, value, ms, expected, lease])

    async def delete(self, prefix: str, key: str) -> None:
        gen_key, stem = self.keys_of(prefix)
        await self._call(prefix, self._del, [gen_key], [stem, key])

    async def evict(self, *prefixes: str) -> None:
        if len(prefixes) == 1:
            await self._call(prefixes, self.client.incr, self.keys_of(prefixes[0])[0])
        elif prefixes:
            await self._call(prefixes, self._incr_all, [self.keys_of(p)[0] for p in prefixes])

    async def seal(self, prefix: str, token: str) -> None:
        await self._confirmed(prefix, self._seal, token)

    async def unseal(self, prefix: str, token: str) -> None:
        await self._confirmed(prefix, self._unseal, token)

    async def _confirmed(self, prefix: str, script: Any, token: str) -> None:
        # A reply is the confirmation. No reply (a timeout) may still mean it ran, later, in
        # a paused Redis: harmless, as both only evict and refuse stores.
        keys = [self.keys_of(prefix)[0], self.seals_of(prefix)]
        if await self._call(prefix, script, keys, [token]) is None:
            raise CacheUnavailable(f"Redis did not confirm sealing or unsealing {prefix!r}")

    async def _incr_all(self, keys: list[str]) -> list[Any]:
        # One round trip for every generation (no MULTI: each INCR stands on its own).
        async with self.client.pipeline(transaction=False) as pipe:
            for key in keys:
                pipe.incr(key)
            return list(await pipe.execute())

    def note_hit(self, prefix: str) -> None:
        """Count a hit read by another script of this cache's keys (the admission script)."""
        self._hits[prefix] += 1
        self._metrics.cache_lookup(prefix, True)

    def stats(self) -> dict[str, tuple[int, int]]:
        """Hits and misses per prefix counted by this process."""
        prefixes = self._hits.keys() | self._misses.keys()
        return {p: (self._hits[p], self._misses[p]) for p in sorted(prefixes)}

    def error_count(self, prefix: str | None = None) -> int:
        """Calls that failed or were skipped while Redis was down: of one prefix, or all."""
        return self._errors[prefix] if prefix is not None else self._errors.total()

    async def _call(self, prefix: str | tuple[str, ...], fn: Any, *args: Any) -> Any:
        now = time.monotonic()
        if now < self._closed_until:
            self._errors.update([prefix] if isinstance(prefix, str) else prefix)
            return None
        try:
            result = await fn(*args)
        except (RedisError, OSError) as exc:
            self._errors.update([prefix] if isinstance(prefix, str) else prefix)
            if isinstance(exc, _DOWN):
                self._closed_until = now + BREAKER_SECONDS
            self._failing = True
            self._log(exc, now)
            return None
        if self._failing:
            self._failing = False
            log.info("cache: Redis answers again")
        return result

    def _log(self, exc: BaseException, now: float) -> None:
        # One line per burst: a dead Redis under load would otherwise log every request.
        if now - self._logged_at < LOG_EVERY_SECONDS:
            self._suppressed += 1
            return
        log.warning(
            "cache: Redis call failed, bypassing the cache (%s: %s; %d errors not logged)",
            type(exc).__name__,
            exc,
            self._suppressed,
        )
        self._logged_at, self._suppressed = now, 0
