"""Bulk operations: the set of orders is fixed when one starts (its rows list them in order),
then `run_bulk_batch` jobs on the bulk queue work through them 50 at a time.

Each batch is one transaction: the batch's work (one UPDATE for markOrdersProcessed; events
whose jobs go to the outbox for the repairs), the operation's progress, and the job of the next
batch, written to the outbox with it. So a worker killed mid-batch leaves nothing of that batch
behind, its job is delivered again and redoes it; a finished batch is never redone (a job whose
position the operation has passed is acknowledged and does nothing), and cancelling stops it
before its next batch. Vendor work is not done here: the repairs' jobs fan out to the default
and critical queues, where the vendors' own limits apply.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime
from uuid import UUID

from app.bulk.commands import CancelBulkOperation, RunBulkBatch, StartBulkOperation
from app.bulk.ports import BulkFailure, BulkOperationView
from app.cache import evict
from app.errors import InvalidInput, NotFound
from app.live import Notice, Topic
from app.logs.ports import LogLevel
from app.notifications.resend import resend_in
from app.orders.retrigger import retrigger_in
from app.ports import Cache, OrderStarts, UnitOfWork, UnitOfWorkFactory
from domain.contacts.events import ContactResyncRequested
from domain.orders.bulk import BATCH, MAX_FAILURES, BulkBatchDue, BulkKind, BulkStatus
from domain.orders.model import OrdersProcessed

log = logging.getLogger("visapi.bulk")

# What one batch does to its orders: (done, failures).
Apply = Callable[
    [UnitOfWork, Sequence[UUID], BulkOperationView, datetime],
    Awaitable[tuple[int, list[BulkFailure]]],
]


def bulk_notice(op: BulkOperationView, at: datetime) -> Notice:
    return Notice(Topic.BULK, op.status.value, str(op.id), at)


async def start_bulk_operation(
    cmd: StartBulkOperation,
    *,
    uow: UnitOfWorkFactory,
    now: Callable[[], datetime],
    new_id: Callable[[], UUID],
) -> BulkOperationView:
    at = now()
    op = BulkOperationView(
        id=new_id(),
        kind=cmd.kind,
        filter=cmd.filter,
        force=cmd.force,
        status=BulkStatus.RUNNING,
        total=0,
        done=0,
        failed=0,
        position=0,
        actor=cmd.actor,
        created_at=at,
    )
    async with uow(actor=cmd.actor, correlation_id=cmd.correlation_id) as unit:
        op.total = await unit.bulk.add(op, cmd.spec)
        if op.total:
            unit.record(
                [BulkBatchDue(aggregate_id=op.id, occurred_at=at, actor=cmd.actor, position=0)]
            )
        else:
            op.status, op.finished_at = BulkStatus.FINISHED, at
            await unit.bulk.save(op, at)
        unit.announce([bulk_notice(op, at)])
        unit.logs.add(
            LogLevel.INFO,
            f"bulk {op.kind.value} {op.id} started over {op.total} orders",
            metadata={"bulk_operation_id": str(op.id), "kind": op.kind.value, "total": op.total},
        )
        await unit.commit()
    return op


def batch_runner(
    *,
    uow: UnitOfWorkFactory,
    now: Callable[[], datetime],
    new_id: Callable[[], UUID],
    starts: OrderStarts | None,
    cache: Cache | None,
) -> Callable[[RunBulkBatch], Awaitable[BulkOperationView | None]]:
    """`run_bulk_batch`, with what each kind of operation needs bound."""

    async def mark_processed(
        unit: UnitOfWork, ids: Sequence[UUID], op: BulkOperationView, at: datetime
    ) -> tuple[int, list[BulkFailure]]:
        changed = await unit.orders.mark_processed(ids, at)  # one statement
        if changed:
            unit.record(
                [
                    OrdersProcessed(
                        aggregate_id=changed[0],
                        occurred_at=at,
                        actor=op.actor,
                        ids=[str(i) for i in changed],
                    )
                ]
            )
        return len(ids), []  # already processed counts as done: the state asked for holds

    async def resync(
        unit: UnitOfWork, ids: Sequence[UUID], op: BulkOperationView, at: datetime
    ) -> tuple[int, list[BulkFailure]]:
        unit.record(
            [ContactResyncRequested(aggregate_id=id, occurred_at=at, actor=op.actor) for id in ids]
        )
        return len(ids), []

    async def each(
        unit: UnitOfWork,
        ids: Sequence[UUID],
        one: Callable[[UUID], Awaitable[object]],
    ) -> tuple[int, list[BulkFailure]]:
        done, failures = 0, []
        for id in ids:
            try:
                await one(id)
                done += 1
            except (InvalidInput, NotFound) as refused:  # checked before anything is written
                failures.append(BulkFailure(id, refused.message))
        return done, failures

    async def resend(
        unit: UnitOfWork, ids: Sequence[UUID], op: BulkOperationView, at: datetime
    ) -> tuple[int, list[BulkFailure]]:
        return await each(
            unit,
            ids,
            lambda id: resend_in(
                unit, id, force=op.force, phone=None, at=at, new_id=new_id, actor=op.actor
            ),
        )

    async def retrigger(
        unit: UnitOfWork, ids: Sequence[UUID], op: BulkOperationView, at: datetime
    ) -> tuple[int, list[BulkFailure]]:
        return await each(
            unit, ids, lambda id: retrigger_in(unit, id, at=at, actor=op.actor, starts=starts)
        )

    async def erase(
        unit: UnitOfWork, ids: Sequence[UUID], op: BulkOperationView, at: datetime
    ) -> tuple[int, list[BulkFailure]]:
        erased = await unit.erasure.erase(ids, f"customer data erased (bulk operation {op.id})")
        unit.logs.add(
            LogLevel.WARN,
            f"personal data of {erased} orders erased by {op.actor or 'the system'}",
            metadata={"bulk_operation_id": str(op.id), "orders": [str(i) for i in ids]},
        )
        return len(ids), []

    kinds: dict[BulkKind, Apply] = {
        BulkKind.ERASE_CUSTOMER: erase,
        BulkKind.MARK_PROCESSED: mark_processed,
        BulkKind.RESYNC_CONTACTS: resync,
        BulkKind.RESEND_CONFIRMATIONS: resend,
        BulkKind.RETRIGGER_ORDERS: retrigger,
    }

    async def run_bulk_batch(cmd: RunBulkBatch) -> BulkOperationView | None:
        at = now()
        async with uow(actor=f"bulk:{cmd.operation_id}") as unit:
            op = await unit.bulk.get(cmd.operation_id, lock=True)
            if op is None or op.status is not BulkStatus.RUNNING or op.position != cmd.position:
                return op  # done before, canceled, or a repeated job: nothing to do
            ids = await unit.bulk.orders(op.id, op.position, BATCH)
            done, failures = await kinds[op.kind](unit, ids, op, at)
            op.position += len(ids)
            op.done += done
            op.failed += len(failures)
            op.failures = (op.failures + failures)[:MAX_FAILURES]
            if op.position >= op.total:
                op.status, op.finished_at = BulkStatus.FINISHED, at
                unit.logs.add(
                    LogLevel.INFO,
                    f"bulk {op.kind.value} {op.id} finished: {op.done} done, {op.failed} failed",
                    metadata={
                        "bulk_operation_id": str(op.id),
                        "done": op.done,
                        "failed": op.failed,
                    },
                )
            else:
                unit.record(
                    [
                        BulkBatchDue(
                            aggregate_id=op.id, occurred_at=at, actor=op.actor, position=op.position
                        )
                    ]
                )
            await unit.bulk.save(op, at)
            unit.announce([bulk_notice(op, at)])
            await unit.commit()
        # The batch changed orders (processed, or their events): reads show it from now on.
        await evict(cache, "order:*", "orders:*", "order-stats:*")
        return op

    return run_bulk_batch


async def cancel_bulk_operation(
    cmd: CancelBulkOperation, *, uow: UnitOfWorkFactory, now: Callable[[], datetime]
) -> BulkOperationView:
    at = now()
    async with uow(actor=cmd.actor, correlation_id=cmd.correlation_id) as unit:
        op = await unit.bulk.get(cmd.operation_id, lock=True)
        if op is None:
            raise NotFound(f"no bulk operation {cmd.operation_id}", field="id")
        if op.status is BulkStatus.RUNNING:
            op.status, op.finished_at = BulkStatus.CANCELED, at
            await unit.bulk.save(op, at)
            unit.announce([bulk_notice(op, at)])
            unit.logs.add(
                LogLevel.INFO,
                f"bulk {op.kind.value} {op.id} canceled after {op.position} of {op.total}",
                metadata={"bulk_operation_id": str(op.id)},
            )
        await unit.commit()
    return op
