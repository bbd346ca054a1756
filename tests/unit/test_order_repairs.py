"""Order handlers beside intake, on the fake unit of work: marking processed, archiving a body
answered from its key, and the admin's retrigger from the archived body."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from app.errors import InvalidInput, NotFound
from app.orders.archive import ArchiveBody, archive_body
from app.orders.commands import MarkOrdersProcessed, RetriggerOrder
from app.orders.handlers import mark_orders_processed
from app.orders.retrigger import retrigger_order
from app.ports import ArchivedPayload
from domain.orders.model import Order, OrderRetriggered
from tests.fakes import FakeUnitOfWorkFactory
from tests.unit.handler_support import T0, Clock, body, new_ids, stored
from visapi.bootstrap import jobs_for


@pytest.fixture
def uow() -> FakeUnitOfWorkFactory:
    return FakeUnitOfWorkFactory()


async def mark(uow: FakeUnitOfWorkFactory, *ids: uuid.UUID) -> int:
    cmd = MarkOrdersProcessed(ids=ids)
    return await mark_orders_processed(cmd, uow=uow, cache=None, now=Clock())


async def test_marking_processed_stamps_the_order(uow: FakeUnitOfWorkFactory) -> None:
    order = stored(uow.store, processed_at=None)
    assert await mark(uow, order.id) == 1
    assert uow.store.orders[order.id].processed_at == T0


async def test_marking_nothing_new_records_no_event(uow: FakeUnitOfWorkFactory) -> None:
    assert await mark(uow, uuid.uuid4()) == 0
    assert uow.store.events == []


async def test_a_repeated_id_counts_once(uow: FakeUnitOfWorkFactory) -> None:
    order = stored(uow.store, processed_at=None)
    assert await mark(uow, order.id, order.id) == 1
    assert uow.store.events[0].ids == [str(order.id)]


async def test_more_than_one_batch_is_marked_in_one_transaction(
    uow: FakeUnitOfWorkFactory,
) -> None:
    orders = [stored(uow.store, order_id=f"IL{n}", processed_at=None) for n in range(120)]
    assert await mark(uow, *(o.id for o in orders)) == 120
    assert uow.store.commits == 1
    assert len(uow.store.events) == 1


async def test_an_archived_repeat_keeps_its_body_key_and_order(uow: FakeUnitOfWorkFactory) -> None:
    order_uuid = uuid.uuid4()
    cmd = ArchiveBody(
        payload={"order": {"id": 42}, "x": "a\x00b"},
        source="webhook",
        status="duplicate",
        idempotency_key="key-1",
        order_uuid=order_uuid,
    )
    await archive_body(cmd, uow=uow, now=Clock(), new_id=new_ids())
    [kept] = uow.store.payloads
    assert (kept.status, kept.external_order_id, kept.idempotency_key) == (
        "duplicate",
        "42",
        "key-1",
    )
    assert kept.order_uuid == order_uuid
    assert "\x00" not in kept.body["x"]


async def test_a_boolean_order_id_is_not_taken_for_an_id(uow: FakeUnitOfWorkFactory) -> None:
    cmd = ArchiveBody(payload={"order": {"id": True}}, source="webhook", status="rejected")
    await archive_body(cmd, uow=uow, now=Clock(), new_id=new_ids())
    assert uow.store.payloads[0].external_order_id is None


def archived(uow: FakeUnitOfWorkFactory, order: Order, payload: Any) -> None:
    uow.store.payloads.append(
        ArchivedPayload(uuid.uuid4(), "webhook", payload, "accepted", T0, order_uuid=order.id)
    )


async def retrigger(uow: FakeUnitOfWorkFactory, order_uuid: uuid.UUID) -> Any:
    cmd = RetriggerOrder(order_uuid, actor="admin:ana")
    return await retrigger_order(cmd, uow=uow, now=Clock(), jobs_for=jobs_for)


async def test_retriggering_an_unknown_order_is_not_found(uow: FakeUnitOfWorkFactory) -> None:
    with pytest.raises(NotFound):
        await retrigger(uow, uuid.uuid4())


async def test_retriggering_without_an_archived_body_is_refused(
    uow: FakeUnitOfWorkFactory,
) -> None:
    order = stored(uow.store)
    with pytest.raises(InvalidInput, match="no archived body"):
        await retrigger(uow, order.id)
    assert uow.store.outbox == []


async def test_retriggering_queues_the_jobs_of_a_new_order(uow: FakeUnitOfWorkFactory) -> None:
    order = stored(uow.store)
    archived(uow, order, body())
    done = await retrigger(uow, order.id)
    assert done.jobs == ["sync_contact"]
    assert [(j.actor, j.arguments["order_id"]) for j in uow.store.outbox] == [
        ("sync_contact", str(order.id))
    ]
    assert [type(e) for e in uow.store.events] == [OrderRetriggered]


async def test_a_body_naming_another_order_is_refused(uow: FakeUnitOfWorkFactory) -> None:
    order = stored(uow.store, order_id="IL-OTHER")
    archived(uow, order, body())
    with pytest.raises(InvalidInput, match="names order"):
        await retrigger(uow, order.id)


async def test_a_body_that_no_longer_parses_is_refused(uow: FakeUnitOfWorkFactory) -> None:
    order = stored(uow.store)
    archived(uow, order, {"order": {"id": order.order_id}})
    with pytest.raises(InvalidInput, match="no longer parses"):
        await retrigger(uow, order.id)
    assert uow.store.events == []
