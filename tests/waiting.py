"""Bounded polls for state that another thread or process brings about: how tests wait.

A test never sleeps a fixed time and then asserts; it polls a condition until a deadline, so a
loaded machine makes it slower, never wrong. The deadline is generous for that reason: it only
bounds how long a broken run takes to fail, with `why` saying what never came."""

from __future__ import annotations

import asyncio
import inspect
import time
from collections.abc import Awaitable, Callable
from typing import TypeVar

T = TypeVar("T")
POLL_S = 0.05

Why = str | Callable[[], str]  # a callable for a costly message (a process's log), read at failure


async def eventually(
    check: Callable[[], Awaitable[T]] | Callable[[], T],
    *,
    timeout_s: float = 20.0,
    why: Why = "the expected state never came",
    poll_s: float = POLL_S,
) -> T:
    """`check()`'s first truthy answer (awaited if it is a coroutine), polled every `poll_s`."""
    deadline = time.monotonic() + timeout_s
    while True:
        value = check()
        if inspect.isawaitable(value):
            value = await value
        if value:
            return value  # type: ignore[return-value]
        if time.monotonic() >= deadline:
            raise AssertionError(why() if callable(why) else why)
        await asyncio.sleep(poll_s)


def until(
    check: Callable[[], T],
    *,
    timeout_s: float = 20.0,
    why: Why = "the expected state never came",
    poll_s: float = POLL_S,
) -> T:
    """`eventually` for code outside an event loop (a fixture starting a server process)."""
    deadline = time.monotonic() + timeout_s
    while not (value := check()):
        if time.monotonic() >= deadline:
            raise AssertionError(why() if callable(why) else why)
        time.sleep(poll_s)
    return value
