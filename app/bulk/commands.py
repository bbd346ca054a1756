"""Bulk commands: start one over a filter, run its next batch (the `run_bulk_batch` job),
cancel it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from uuid import UUID

from domain.orders.bulk import BulkKind
from domain.orders.specs import Spec


@dataclass(frozen=True)
class StartBulkOperation:
    kind: BulkKind
    spec: Spec | None  # None: every order
    filter: Any  # the filter as given, shown back to operators (JSON)
    force: bool = False
    actor: str | None = None
    correlation_id: str | None = None


@dataclass(frozen=True)
class RunBulkBatch:
    operation_id: UUID
    position: int  # the batch this job was made for: a stale or repeated job finds it done


@dataclass(frozen=True)
class CancelBulkOperation:
    operation_id: UUID
    actor: str | None = None
    correlation_id: str | None = None
