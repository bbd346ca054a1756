"""Our Lua scripts, run by EVALSHA and loaded again when the server has lost them (a restart,
`SCRIPT FLUSH`, a failover to a replica that never saw them).

redis-py's `Script` does the same, but each call imports two modules, checks for pipelines and
goes through a deprecation wrapper: about 7 % of the CPU of a cached GraphQL answer, whose
admission is one script call (`BENCH_PROFILE=1 make bench`, row order_persisted_hit).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from typing import Any

from redis.asyncio import Redis
from redis.exceptions import NoScriptError


class LuaScript:
    def __init__(self, client: Redis, source: str) -> None:
        self._client = client
        self._source = source
        self.sha = hashlib.sha1(source.encode(), usedforsecurity=False).hexdigest()

    async def __call__(self, keys: Sequence[Any] = (), args: Iterable[Any] = ()) -> Any:
        args = tuple(args)
        run = self._client.execute_command
        try:
            return await run("EVALSHA", self.sha, len(keys), *keys, *args)  # type: ignore[no-untyped-call]
        except NoScriptError:
            self.sha = await self._client.script_load(self._source)
            return await run("EVALSHA", self.sha, len(keys), *keys, *args)  # type: ignore[no-untyped-call]
