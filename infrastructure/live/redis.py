"""Notices across processes through Redis pub/sub: every process publishes to one channel, and
each API process with subscribers listens on it and fans out to its own (infrastructure.live
.fanout).

Pub/sub is at most once, which is what subscriptions promise: a process whose listening
connection is down (Redis restarting) misses what was published meanwhile, reconnects with a
backoff, and its subscribers hear again from the next notice on. Nothing is stored in Redis.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Sequence
from datetime import datetime
from typing import Any

import orjson
from redis.asyncio import Redis

from app.live import LiveMetrics, Notice, Topic
from infrastructure.live.fanout import BufferedListener, Fanout

log = logging.getLogger("visapi.live")

FIRST_PAUSE_S = 0.2
MAX_PAUSE_S = 5.0
# After a publish fails, commits skip publishing for this long: at most once at risk of the
# client's timeout (1 s) per period while Redis hangs, not every commit.
QUIET_S = 1.0


def encode(notices: Sequence[Notice]) -> bytes:
    return orjson.dumps(
        [[n.topic.value, n.kind, n.subject, n.at.isoformat(), n.data or None] for n in notices]
    )


def decode(raw: bytes | str) -> list[Notice]:
    out = []
    for topic, kind, subject, at, data in orjson.loads(raw):
        out.append(Notice(Topic(topic), kind, subject, datetime.fromisoformat(at), data or {}))
    return out


class RedisLive:
    """Implements `app.live.Feed` and `app.live.Hub` over one Redis channel."""

    def __init__(
        self,
        client: Any,
        *,
        url: str,
        channel: str,
        buffer: int,
        metrics: LiveMetrics | None = None,
    ) -> None:
        self._redis = client  # the process's fail-fast client, for publishing
        # Listening has a connection of its own with no read timeout: a quiet channel is not
        # a failure (the shared client gives up on a read after 1 s).
        self._listener = Redis.from_url(
            url, socket_connect_timeout=1.0, socket_keepalive=True, health_check_interval=10
        )
        self.channel = channel
        self.fanout = Fanout(buffer=buffer, metrics=metrics)
        self._task: asyncio.Task[None] | None = None
        self._quiet_until = 0.0  # after a failed publish, none is tried before this
        self.connected = asyncio.Event()  # set while the channel is subscribed (tests wait)

    async def publish(self, notices: Sequence[Notice]) -> None:
        if not notices or time.monotonic() < self._quiet_until:
            return  # Redis failed a moment ago: commits do not wait on it again yet
        try:
            await self._redis.publish(self.channel, encode(notices))
        except Exception as exc:  # the change is committed; only its notice is lost
            self._quiet_until = time.monotonic() + QUIET_S
            log.warning("live notices not published (%s: %s)", type(exc).__name__, exc)

    def listen(self, topic: Topic) -> BufferedListener:
        if self._task is None or self._task.done():
            self._task = asyncio.get_running_loop().create_task(self._listen())
        return self.fanout.listen(topic)

    async def _listen(self) -> None:
        pause = FIRST_PAUSE_S
        while True:
            pubsub = self._listener.pubsub(ignore_subscribe_messages=True)
            try:
                await pubsub.subscribe(self.channel)
                self.connected.set()
                pause = FIRST_PAUSE_S
                while True:
                    message = await pubsub.get_message(timeout=5.0)
                    if message is None or message.get("type") != "message":
                        continue
                    try:
                        notices = decode(message["data"])
                    except Exception:
                        log.warning("an unreadable live message on %s was skipped", self.channel)
                        continue
                    self.fanout.deliver(notices)
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                log.warning(
                    "live channel %s lost (%s: %s); resubscribing in %.1f s",
                    self.channel,
                    type(exc).__name__,
                    exc,
                    pause,
                )
            finally:
                self.connected.clear()
                with contextlib.suppress(Exception):
                    await pubsub.aclose()
            await asyncio.sleep(pause)
            pause = min(pause * 2, MAX_PAUSE_S)

    async def aclose(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        await self._listener.aclose()
