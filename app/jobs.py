"""Jobs: what a change asks to run later (written to the outbox) and the one registry of actors."""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Protocol


class Queue(StrEnum):
    CRITICAL = "critical"
    DEFAULT = "default"
    BULK = "bulk"


@dataclass(frozen=True)
class Job:
    """One message to publish: actor name and JSON arguments (ids, never objects). Its queue is
    the actor's, declared once in the registry (app/actors.py)."""

    actor: str
    arguments: Mapping[str, Any]


class Jobs(Protocol):
    """Publishes a job straight to the broker, without the outbox: only for what must be queued
    while the database (and so the outbox) is unreachable."""

    async def enqueue(self, job: Job) -> None: ...


# An actor body receives the decoded keyword arguments and the application's bus-level
# dependencies (bound at registration); it returns nothing and raises to ask for a retry.
ActorFn = Callable[..., Awaitable[None]]


@dataclass(frozen=True)
class ActorSpec:
    """One entry of the registry: shared by producers (outbox) and consumers (workers)."""

    name: str
    queue: Queue
    handler: ActorFn
    max_retries: int = 5
    # Backoff bounds in milliseconds; Dramatiq doubles from min up to max with jitter.
    min_backoff_ms: int | None = None
    max_backoff_ms: int | None = None
    time_limit_ms: int = 60_000
    options: Mapping[str, Any] = field(default_factory=dict)


class UnknownActor(LookupError):
    pass


class InvalidJob(ValueError):
    pass


class RetryLater(Exception):
    """Raised by a handler that cannot proceed yet (e.g. another attempt holds the claim of a
    notification): the message is retried after `delay_ms`, never acknowledged as done."""

    def __init__(self, reason: str, *, delay_ms: int | None = None) -> None:
        super().__init__(reason)
        self.delay_ms = delay_ms


JobPolicy = Callable[[Any], list[Job]]


def jobs_by_policy(policies: Mapping[type, JobPolicy]) -> JobPolicy:
    """`jobs_for(event)`: the jobs the policy of the event's type names; none for the rest."""

    def jobs_for(event: Any) -> list[Job]:
        policy = policies.get(type(event))
        return policy(event) if policy else []

    return jobs_for


def check_jobs(jobs: list[Job], registry: Mapping[str, ActorSpec]) -> None:
    """Refuse to write a job no worker would consume (the reference queued names nobody read),
    or one whose arguments its actor would refuse: a missing or unknown keyword fails at once
    in the producer's transaction, not days later in a dead letter."""
    for job in jobs:
        spec = registry.get(job.actor)
        if spec is None:
            raise UnknownActor(f"no actor named {job.actor!r} in the registry")
        required, accepted = _parameters(spec.handler)
        given = set(job.arguments)
        if not required <= given or (accepted is not None and not given <= accepted):
            raise InvalidJob(
                f"job {job.actor!r} takes {sorted(accepted or ())} (required {sorted(required)}), "
                f"given {sorted(given)}"
            )


def _parameters(handler: ActorFn) -> tuple[frozenset[str], frozenset[str] | None]:
    """The keyword arguments an actor body requires and accepts (None: any, it takes
    `**kwargs`); its first parameter, the bus, is bound at registration."""
    found = _PARAMETERS.get(handler)
    if found is None:
        parameters = inspect.signature(handler).parameters.values()
        keywords = [p for p in parameters if p.kind is p.KEYWORD_ONLY]
        required = frozenset(p.name for p in keywords if p.default is p.empty)
        open_ended = any(p.kind is p.VAR_KEYWORD for p in parameters)
        accepted = None if open_ended else frozenset(p.name for p in keywords)
        found = _PARAMETERS[handler] = (required, accepted)
    return found


_PARAMETERS: dict[ActorFn, tuple[frozenset[str], frozenset[str] | None]] = {}
