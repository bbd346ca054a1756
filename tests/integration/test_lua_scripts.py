"""Our Lua scripts on a real Redis: run by hash, loaded again after the server lost them."""

from __future__ import annotations

import pytest
import redis.asyncio as aioredis

from infrastructure.cache.scripts import LuaScript

pytestmark = pytest.mark.redis

ECHO = "return {KEYS[1], ARGV[1], #KEYS, #ARGV}"


async def test_a_script_runs_by_hash_and_again_after_script_flush(redis_url: str) -> None:
    client = aioredis.Redis.from_url(redis_url)
    try:
        script = LuaScript(client, ECHO)
        assert await script(["k"], ["a", 2]) == [b"k", b"a", 1, 2]
        assert await client.script_exists(script.sha) == [True]
        await client.script_flush()
        assert await client.script_exists(script.sha) == [False]
        assert await script(keys=["k2"], args=["b"]) == [b"k2", b"b", 1, 1]
        assert await script() == []  # KEYS[1] is nil: Lua ends the table there
    finally:
        await client.aclose()
