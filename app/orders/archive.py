"""Archiving a body that CreateOrder never saw: a repeat answered from its idempotency key.

Every inbound order body is archived (DOMAIN.md "Order intake"), including a repeat answered
with the first answer (`duplicate`) and one refused for its key (`rejected`, e.g. the same key
with another body: that other body would otherwise leave no trace).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from app.ports import ArchivedPayload, UnitOfWorkFactory
from domain.orders.text import without_nul

ID_MAX = 128


@dataclass(frozen=True)
class ArchiveBody:
    payload: Any
    source: str
    status: str  # duplicate | rejected
    idempotency_key: str | None = None
    error: str | None = None
    order_uuid: UUID | None = None
    actor: str | None = None
    correlation_id: str | None = None


def external_order_id(body: Any) -> str | None:
    order = body.get("order") if isinstance(body, dict) else None
    raw = order.get("id") if isinstance(order, dict) else None
    ok = isinstance(raw, str | int) and not isinstance(raw, bool) and str(raw).strip()
    return str(raw)[:ID_MAX] if ok else None


async def archive_body(
    cmd: ArchiveBody,
    *,
    uow: UnitOfWorkFactory,
    now: Callable[[], datetime],
    new_id: Callable[[], UUID],
) -> None:
    payload = ArchivedPayload(
        id=new_id(),
        source=cmd.source,
        body=without_nul(cmd.payload),  # PostgreSQL refuses U+0000
        status=cmd.status,
        received_at=now(),
        external_order_id=external_order_id(cmd.payload),
        idempotency_key=cmd.idempotency_key,
        error=cmd.error,
        order_uuid=cmd.order_uuid,
    )
    async with uow(actor=cmd.actor, correlation_id=cmd.correlation_id) as unit:
        unit.payloads.add(payload)
        await unit.commit()
