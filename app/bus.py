"""The message bus: one handler per command in a plain dict, event handlers in lists."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any

log = logging.getLogger("visapi.bus")

CommandHandler = Callable[[Any], Awaitable[Any]]
EventHandler = Callable[[Any], Awaitable[None]]


class MessageBus:
    """Routes a command to its handler, then runs in-process handlers of the events it committed.

    Handlers are bound to their dependencies in `app.main.bootstrap`; the bus only routes.
    """

    def __init__(
        self,
        commands: Mapping[type, CommandHandler],
        events: Mapping[type, Sequence[EventHandler]],
    ) -> None:
        self.commands = dict(commands)
        self.events = {k: list(v) for k, v in events.items()}

    async def handle(self, command: Any) -> Any:
        handler = self.commands.get(type(command))
        if handler is None:
            raise LookupError(f"no handler for {type(command).__name__}")
        return await handler(command)

    async def publish(self, events: Sequence[Any]) -> None:
        """Run in-process event handlers after commit. A failing handler is logged, not raised:
        the change is committed and its durable side effects are already in the outbox."""
        for event in events:
            for handler in self.events.get(type(event), ()):
                try:
                    await handler(event)
                except Exception:
                    log.exception("event handler %s failed for %s", handler, type(event).__name__)
