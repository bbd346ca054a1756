"""Order command handlers: intake of a storefront body, and marking orders processed."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any
from uuid import UUID

from app.cache import cache_evict
from app.errors import InvalidInput
from app.logs.ports import LogLevel, UnitLogs
from app.orders.commands import (
    CreateOrder,
    CreateOrderOutcome,
    MarkOrdersProcessed,
    OrderAccepted,
    OrderRejected,
    OrderSkipped,
)
from app.ports import (
    ArchivedPayload,
    Cache,
    OrderAlreadyExists,
    OrderStarts,
    StartInUnit,
    UnitOfWork,
    UnitOfWorkFactory,
)
from domain.errors import InvalidOrderBody
from domain.orders.intake import order_from_body
from domain.orders.model import Order, OrderCreated, OrdersProcessed, is_test_order_id
from domain.orders.text import without_nul

log = logging.getLogger("visapi.orders")

PROCESS_BATCH = 50  # rows per UPDATE statement (DOMAIN.md "Batches")
PROCESS_MAX_IDS = 1000


def _external_id(body: Any) -> str | None:
    order = body.get("order") if isinstance(body, dict) else None
    raw = order.get("id") if isinstance(order, dict) else None
    return str(raw)[:128] if isinstance(raw, str | int) and str(raw).strip() else None


@dataclass(frozen=True)
class _Intake:
    """One received body: what every archived copy of it (whatever became of it) shares."""

    cmd: CreateOrder
    received: datetime
    external_id: str | None
    new_id: Callable[[], UUID]

    def archive(
        self, status: str, *, error: str | None = None, order: UUID | None = None
    ) -> ArchivedPayload:
        return ArchivedPayload(
            id=self.new_id(),
            source=self.cmd.source,
            body=self.cmd.payload,
            status=status,
            received_at=self.received,
            external_order_id=self.external_id,
            idempotency_key=self.cmd.idempotency_key,
            error=error,
            order_uuid=order,
        )

    def unit(self, uow: UnitOfWorkFactory) -> UnitOfWork:
        return uow(actor=self.cmd.actor, correlation_id=self.cmd.correlation_id)


# Lists and stats change with every new order; a cached by-id miss ("no such order") is never
# stored, so the by-id prefix needs no eviction here.
@cache_evict(["orders:*", "order-stats:*"])
async def create_order(
    cmd: CreateOrder,
    *,
    uow: UnitOfWorkFactory,
    cache: Cache | None,
    now: Callable[[], datetime],
    new_id: Callable[[], UUID],
    starts: OrderStarts | None = None,
) -> CreateOrderOutcome:
    received = now()
    cmd = replace(cmd, payload=without_nul(cmd.payload))  # PostgreSQL refuses U+0000
    intake = _Intake(cmd, received, _external_id(cmd.payload), new_id)
    if intake.external_id and is_test_order_id(intake.external_id):
        return await _skip_test_order(uow, intake)
    try:
        order = order_from_body(cmd.payload, id=new_id(), now=received)
    except InvalidOrderBody as exc:
        return await _reject(uow, intake, exc)
    # Asked before the transaction: the workflows' lookup is a cached read, kept out of it.
    start_in_unit = await starts(order) if starts is not None else None
    return await _insert_or_find(uow, intake, order, start_in_unit)


async def _skip_test_order(uow: UnitOfWorkFactory, intake: _Intake) -> OrderSkipped:
    async with intake.unit(uow) as unit:
        unit.payloads.add(intake.archive("skipped"))
        await unit.commit()
    return OrderSkipped(reason=f"test order {intake.external_id} is not stored")


async def _reject(uow: UnitOfWorkFactory, intake: _Intake, exc: InvalidOrderBody) -> OrderRejected:
    async with intake.unit(uow) as unit:
        unit.payloads.add(intake.archive("rejected", error=exc.message))
        unit.logs.add(
            LogLevel.WARN,
            f"order {intake.external_id or '(no id)'} rejected: {exc.message}",
            metadata={
                "order_id": intake.external_id,
                "field": exc.field,
                "source": intake.cmd.source,
            },
        )
        await unit.commit()
    return OrderRejected(message=exc.message, field=exc.field)


async def _insert_or_find(
    uow: UnitOfWorkFactory, intake: _Intake, order: Order, start_in_unit: StartInUnit | None
) -> OrderAccepted:
    # New orders are the rule: the first attempt inserts without looking (the unique order id
    # refuses a repeat at commit, one round trip fewer per order); the second reads what is there.
    for attempt in range(2):
        async with intake.unit(uow) as unit:
            existing = await unit.orders.get_by_order_id(order.order_id) if attempt else None
            if existing is not None:
                unit.payloads.add(intake.archive("duplicate", order=existing.id))
                _received(unit.logs, existing, intake.cmd.source, duplicate=True)
                await unit.commit()
                return OrderAccepted(order=existing, created=False)
            await _add_new(unit, intake, order, start_in_unit)
            try:
                await unit.commit()
            except OrderAlreadyExists:
                order.events.clear()
                continue
            log.info("order %s accepted", order.order_id, extra={"order_uuid": str(order.id)})
            return OrderAccepted(order=order, created=True)
    raise RuntimeError(f"order {order.order_id} neither inserted nor found")


async def _add_new(
    unit: UnitOfWork, intake: _Intake, order: Order, start_in_unit: StartInUnit | None
) -> None:
    order.record_created(actor=intake.cmd.actor)
    unit.orders.add(order)
    unit.payloads.add(intake.archive("accepted", order=order.id))
    _received(unit.logs, order, intake.cmd.source, duplicate=False)
    if start_in_unit is not None:
        created = order.events[-1]
        assert isinstance(created, OrderCreated)
        # Its runs (and their jobs) commit with the order, or roll back with it.
        await start_in_unit(unit, created)


def _received(logs: UnitLogs, order: Order, source: str, *, duplicate: bool) -> None:
    """The operators' record of an intake, joined to its jobs by the correlation id; stored
    by the intake's own transaction."""
    what = "received again (duplicate)" if duplicate else "received"
    logs.add(
        LogLevel.INFO,
        f"order {order.order_id} {what}",
        metadata={
            "order_id": order.order_id,
            "order_uuid": str(order.id),
            "branch": order.branch,
            "source": source,
            "duplicate": duplicate,
        },
    )


@cache_evict(["order:*", "orders:*", "order-stats:*"])
async def mark_orders_processed(
    cmd: MarkOrdersProcessed,
    *,
    uow: UnitOfWorkFactory,
    cache: Cache | None,
    now: Callable[[], datetime],
) -> int:
    """Set processed_at on the given unprocessed orders, 50 per statement, in one transaction."""
    ids = list(dict.fromkeys(cmd.ids))
    if len(ids) > PROCESS_MAX_IDS:
        raise InvalidInput(f"at most {PROCESS_MAX_IDS} ids per call", field="ids")
    at = now()
    changed: list[UUID] = []
    async with uow(actor=cmd.actor, correlation_id=cmd.correlation_id) as unit:
        for start in range(0, len(ids), PROCESS_BATCH):
            changed += await unit.orders.mark_processed(ids[start : start + PROCESS_BATCH], at)
        if changed:
            unit.record(
                [
                    OrdersProcessed(
                        aggregate_id=changed[0],
                        occurred_at=at,
                        actor=cmd.actor,
                        ids=[str(i) for i in changed],
                    )
                ]
            )
        await unit.commit()
    return len(changed)
