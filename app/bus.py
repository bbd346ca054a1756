"""The message bus: one handler per command, in a plain dict."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from typing import Any

CommandHandler = Callable[[Any], Awaitable[Any]]


class MessageBus:
    """Routes a command to its handler. What a change causes later goes through the outbox
    (jobs written in the change's own transaction), never through in-process event handlers:
    those would be lost with the process between commit and run.

    Handlers are bound to their dependencies by the composition root (visapi/slices); the bus
    only routes.
    """

    def __init__(self, commands: Mapping[type, CommandHandler]) -> None:
        self.commands = dict(commands)

    async def handle(self, command: Any) -> Any:
        handler = self.commands.get(type(command))
        if handler is None:
            raise LookupError(f"no handler for {type(command).__name__}")
        return await handler(command)
