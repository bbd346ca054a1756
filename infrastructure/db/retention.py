"""Retention: what each kept table may lose once it is old enough, deleted in short batches.

A rule names a table and the predicate of its expired rows for a cutoff. Only rows that nobody
still needs qualify: an outbox row once published (an unpublished one is a job not yet sent,
whatever its age), a dead letter once replayed, or unreplayed past its own, longer window.
Every DELETE takes at most `batch` rows and commits on its own (DOMAIN.md "Batches"): no long
lock on the table, no huge WAL burst, and the API's writes interleave with the purge.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, Table, delete, select
from sqlalchemy.ext.asyncio import AsyncEngine

from infrastructure.db.tables import (
    delivery_events,
    failed_jobs,
    logs,
    outbox,
    sandbox_messages,
    webhook_payloads,
)

log = logging.getLogger("visapi.retention")

DEFAULT_BATCH = 1000  # rows per DELETE (DOMAIN.md "Batches")


@dataclass(frozen=True)
class RetentionRule:
    table: Table
    # The rows to delete for a cutoff; every column it names has an index (migration 0005).
    expired: Callable[[datetime], ColumnElement[bool]]


RULES: Mapping[str, RetentionRule] = {
    "logs": RetentionRule(logs, lambda before: logs.c.created_at < before),
    "webhook_payloads": RetentionRule(
        webhook_payloads, lambda before: webhook_payloads.c.received_at < before
    ),
    # `published_at < x` is never true for NULL: an unpublished row is never expired.
    "outbox": RetentionRule(outbox, lambda before: outbox.c.published_at < before),
    "delivery_events": RetentionRule(
        delivery_events, lambda before: delivery_events.c.received_at < before
    ),
    "failed_jobs": RetentionRule(failed_jobs, lambda before: failed_jobs.c.replayed_at < before),
    "unreplayed_failed_jobs": RetentionRule(
        failed_jobs,
        lambda before: failed_jobs.c.replayed_at.is_(None) & (failed_jobs.c.failed_at < before),
    ),
    # What the sandbox vendors would have sent: contacts' phones, names and custom fields.
    "sandbox_messages": RetentionRule(
        sandbox_messages, lambda before: sandbox_messages.c.created_at < before
    ),
}


async def prune(
    engine: AsyncEngine, rule: str, before: datetime, batch: int = DEFAULT_BATCH
) -> int:
    """Delete the rows of `rule` expired at `before`, `batch` rows per statement, each in its own
    short transaction, until none is left; return how many."""
    if batch <= 0:
        raise ValueError(f"retention batch must be positive, got {batch}")
    table, expired = RULES[rule].table, RULES[rule].expired(before)
    # A subquery by primary key: DELETE ... LIMIT is not portable (PostgreSQL has none).
    statement = delete(table).where(table.c.id.in_(select(table.c.id).where(expired).limit(batch)))
    total = 0
    while True:
        async with engine.begin() as conn:
            deleted = (await conn.execute(statement)).rowcount
        total += deleted
        if deleted < batch:
            if total:
                # What went and why, for the operator wondering where a row is.
                log.info("retention %s: deleted %d rows expired before %s", rule, total, before)
            return total
