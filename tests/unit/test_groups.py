"""Grouped execution (app/groups.py): concurrent calls of one loop handled as groups."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

import pytest

from app import context
from app.groups import Groups, Member


class Recorder:
    """A group handler that records each group's commands and the ids each member acted under;
    it waits on `gate` so tests can pile calls up behind a running group."""

    def __init__(self) -> None:
        self.groups: list[list[str]] = []
        self.acting: list[tuple[str | None, str | None]] = []
        self.outside: list[tuple[str | None, str | None]] = []
        self.gate = asyncio.Event()
        self.gate.set()
        self.started = asyncio.Event()
        self.cancelled = 0

    async def __call__(self, members: Sequence[Member[str]]) -> list[str | BaseException]:
        self.groups.append([m.command for m in members])
        self.outside.append((context.correlation_id.get(), context.job_id.get()))
        self.started.set()
        try:
            await self.gate.wait()
        except asyncio.CancelledError:
            self.cancelled += 1
            raise
        out: list[str | BaseException] = []
        for m in members:
            with m.acting():
                self.acting.append((context.correlation_id.get(), context.job_id.get()))
            if m.command.startswith("bad"):
                out.append(ValueError(m.command))
            elif m.command == "boom":
                raise RuntimeError("the whole group failed")
            else:
                out.append(m.command.upper())
        return out


async def submit_as(groups: Groups[str, str], command: str, correlation: str) -> str:
    context.correlation_id.set(correlation)
    context.job_id.set(f"job-{command}")
    return await groups.submit(command)


async def test_an_idle_worker_runs_a_call_at_once_alone() -> None:
    handler = Recorder()
    groups = Groups("k", handler, max_size=10)
    assert await groups.submit("a") == "A"
    assert handler.groups == [["a"]]


async def test_calls_arriving_while_a_group_runs_form_the_next_group() -> None:
    handler = Recorder()
    handler.gate.clear()
    groups = Groups("k", handler, max_size=10)
    first = asyncio.create_task(groups.submit("a"))
    await handler.started.wait()
    rest = [asyncio.create_task(groups.submit(c)) for c in ("b", "c", "d")]
    await asyncio.sleep(0)
    assert handler.groups == [["a"]]  # b, c, d wait behind the running group
    handler.gate.set()
    assert await asyncio.gather(first, *rest) == ["A", "B", "C", "D"]
    assert handler.groups == [["a"], ["b", "c", "d"]]


async def test_a_full_group_starts_at_once_behind_a_running_one() -> None:
    handler = Recorder()
    handler.gate.clear()
    groups = Groups("k", handler, max_size=2)
    tasks = [asyncio.create_task(groups.submit(c)) for c in ("a", "b", "c", "d")]
    await asyncio.sleep(0.01)
    # a alone (nothing ran), then b+c full at once; d waits for a running group to end.
    assert handler.groups == [["a"], ["b", "c"]]
    handler.gate.set()
    assert await asyncio.gather(*tasks) == ["A", "B", "C", "D"]
    assert handler.groups == [["a"], ["b", "c"], ["d"]]


async def test_a_member_failing_alone_fails_only_its_own_call() -> None:
    handler = Recorder()
    handler.gate.clear()
    groups = Groups("k", handler, max_size=10)
    first = asyncio.create_task(groups.submit("a"))
    await handler.started.wait()
    good, bad = asyncio.create_task(groups.submit("b")), asyncio.create_task(groups.submit("bad"))
    handler.gate.set()
    assert await first == "A"
    assert await good == "B"
    with pytest.raises(ValueError, match="bad"):
        await bad


async def test_a_group_that_raises_fails_every_member() -> None:
    handler = Recorder()
    handler.gate.clear()
    groups = Groups("k", handler, max_size=10)
    first = asyncio.create_task(groups.submit("a"))
    await handler.started.wait()
    both = [asyncio.create_task(groups.submit(c)) for c in ("b", "boom")]
    handler.gate.set()
    await first
    for task in both:
        with pytest.raises(RuntimeError, match="whole group"):
            await task


async def test_each_member_acts_under_its_own_ids_and_the_group_under_none() -> None:
    handler = Recorder()
    handler.gate.clear()
    groups = Groups("k", handler, max_size=10)
    first = asyncio.create_task(submit_as(groups, "a", "corr-a"))
    await handler.started.wait()
    rest = [asyncio.create_task(submit_as(groups, c, f"corr-{c}")) for c in ("b", "c")]
    handler.gate.set()
    await asyncio.gather(first, *rest)
    assert handler.acting == [("corr-a", "job-a"), ("corr-b", "job-b"), ("corr-c", "job-c")]
    # The group of b and c did not run under b's ids, though b's call started it.
    assert handler.outside == [(None, None), (None, None)]


async def test_a_group_whose_every_caller_is_cancelled_is_cancelled() -> None:
    handler = Recorder()
    handler.gate.clear()
    groups = Groups("k", handler, max_size=10)
    task = asyncio.create_task(groups.submit("a"))
    await handler.started.wait()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    await asyncio.sleep(0)
    assert handler.cancelled == 1


async def test_a_group_runs_on_while_one_of_its_callers_remains() -> None:
    handler = Recorder()
    handler.gate.clear()
    groups = Groups("k", handler, max_size=10)
    first = asyncio.create_task(groups.submit("a"))
    await handler.started.wait()
    handler.started.clear()
    b, c = asyncio.create_task(groups.submit("b")), asyncio.create_task(groups.submit("c"))
    handler.gate.set()
    await first
    # b and c form a group; c's caller goes away while it runs, b still gets its answer.
    handler.gate.clear()
    await handler.started.wait()
    c.cancel()
    await asyncio.sleep(0)
    handler.gate.set()
    assert await b == "B"
    assert handler.cancelled == 0


async def test_a_cancelled_call_still_waiting_never_runs() -> None:
    handler = Recorder()
    handler.gate.clear()
    groups = Groups("k", handler, max_size=10)
    first = asyncio.create_task(groups.submit("a"))
    await handler.started.wait()
    waiting = asyncio.create_task(groups.submit("b"))
    await asyncio.sleep(0)
    waiting.cancel()
    await asyncio.sleep(0)
    handler.gate.set()
    assert await first == "A"
    await asyncio.sleep(0.01)
    assert handler.groups == [["a"]]


def test_a_group_holds_at_least_one_member() -> None:
    with pytest.raises(ValueError, match="at least one"):
        Groups("k", Recorder(), max_size=0)
