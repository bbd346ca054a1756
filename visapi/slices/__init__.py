"""Feature slices: each module wires one feature from the platform, the same way.

A slice module declares `JOBS` (the job policies of the events it owns: which jobs they cause,
written to the outbox in the event's own transaction) and `build(platform, ...)`, which returns
a `Slice`: the read handlers delivery calls, the command handlers the bus routes, and what to
close at shutdown. `visapi.bootstrap` lists the slices.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Generic, TypeVar

from app.bus import CommandHandler

Q = TypeVar("Q")
Closer = Callable[[], Awaitable[None]]


@dataclass
class Slice(Generic[Q]):
    queries: Q
    commands: dict[type, CommandHandler]
    closers: list[Closer] = field(default_factory=list)
