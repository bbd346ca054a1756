"""Where API key use gathers between flushes: a Redis sorted set, or a dict when embedded."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import UTC, datetime
from functools import partial
from uuid import UUID

import redis.asyncio

from infrastructure.cache.failopen import FailOpen
from infrastructure.cache.scripts import LuaScript

log = logging.getLogger("visapi.key_usage")

# Take and clear in one step, so a touch landing during the flush is kept for the next one.
_DRAIN = """
local entries = redis.call('ZRANGE', KEYS[1], 0, -1, 'WITHSCORES')
redis.call('DEL', KEYS[1])
return entries
"""


class RedisKeyUsage:
    """One sorted set: member = key id, score = last use (epoch seconds); ZADD GT keeps the
    latest time whichever process reports it, in one O(log n) write per request."""

    def __init__(self, client: redis.asyncio.Redis, namespace: str = "visapi") -> None:
        self.key = f"{namespace}:key-usage"
        self._drain = LuaScript(client, _DRAIN)
        self._guard = FailOpen("key usage", log)
        self._zadd_gt = partial(client.zadd, gt=True)

    @property
    def failures(self) -> int:
        return self._guard.failures

    async def touch(self, key_id: UUID, at: datetime) -> None:
        await self._guard(self._zadd_gt, self.key, {str(key_id): at.timestamp()})

    async def drain(self) -> dict[UUID, datetime]:
        raw = await self._guard(self._drain, [self.key], [])
        if not raw:
            return {}
        pairs = zip(raw[::2], raw[1::2], strict=True)
        return {
            UUID(member.decode()): datetime.fromtimestamp(float(score), UTC)
            for member, score in pairs
        }

    async def restore(self, usage: Mapping[UUID, datetime]) -> None:
        if usage:
            mapping = {str(k): at.timestamp() for k, at in usage.items()}
            await self._guard(self._zadd_gt, self.key, mapping)


class MemoryKeyUsage:
    failures = 0

    def __init__(self) -> None:
        self._latest: dict[UUID, datetime] = {}

    async def touch(self, key_id: UUID, at: datetime) -> None:
        previous = self._latest.get(key_id)
        if previous is None or at > previous:
            self._latest[key_id] = at

    async def drain(self) -> dict[UUID, datetime]:
        taken, self._latest = self._latest, {}
        return taken

    async def restore(self, usage: Mapping[UUID, datetime]) -> None:
        for key_id, at in usage.items():
            await self.touch(key_id, at)
