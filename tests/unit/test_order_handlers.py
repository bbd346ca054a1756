"""Order command handlers through `bootstrap` with in-memory fakes: no database, no broker."""

from __future__ import annotations

import copy
import json
import uuid
from pathlib import Path
from typing import Any

import pytest

from app.errors import InvalidInput
from app.orders.commands import (
    CreateOrder,
    MarkOrdersProcessed,
    OrderAccepted,
    OrderRejected,
    OrderSkipped,
)
from domain.orders.model import OrderCreated, OrdersProcessed
from infrastructure.cache.memory import MemoryCache
from tests.fakes import FakeBusinessLog, FakeUnitOfWorkFactory, FakeWorkflowReads
from visapi.bootstrap import Container, bootstrap
from visapi.settings import Settings

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "vizi-orders"


def fixture(name: str) -> dict[str, Any]:
    return json.loads((FIXTURES / name).read_text())


@pytest.fixture
async def app() -> Any:
    fake = FakeUnitOfWorkFactory()
    container = bootstrap(
        Settings(),
        uow=fake,
        cache=MemoryCache(),
        business_log=FakeBusinessLog(),
        workflow_reads=FakeWorkflowReads(),
    )
    yield container, fake.store
    await container.aclose()


async def test_new_il_order_is_stored_with_its_event_and_sync_job(app: Any) -> None:
    container, store = app
    outcome = await container.bus.handle(CreateOrder(payload=fixture("il-uk-eta.json")))
    assert isinstance(outcome, OrderAccepted)
    assert outcome.created is True
    assert [o.order_id for o in store.orders.values()] == ["IL251101GB07"]
    assert [type(e) for e in store.events] == [OrderCreated]
    assert [(j.actor, j.arguments["order_id"]) for j in store.outbox] == [
        ("sync_contact", str(outcome.order.id))
    ]
    assert [p.status for p in store.payloads] == ["accepted"]
    assert store.payloads[0].order_uuid == outcome.order.id


async def test_intake_tells_operators_what_happened(app: Any) -> None:
    container, store = app
    body = fixture("il-uk-eta.json")
    await container.bus.handle(CreateOrder(payload=body, source="webhook"))
    await container.bus.handle(CreateOrder(payload=body, source="webhook"))
    await container.bus.handle(CreateOrder(payload={"order": {"id": "IL1"}, "form": 3}))
    entries = store.logs  # committed with the intake's own transaction
    assert [(e["level"], e["message"]) for e in entries[:2]] == [
        ("info", "order IL251101GB07 received"),
        ("info", "order IL251101GB07 received again (duplicate)"),
    ]
    assert entries[0]["metadata"]["order_id"] == "IL251101GB07"
    assert entries[0]["metadata"]["source"] == "webhook"
    assert entries[2]["level"] == "warn"
    assert entries[2]["message"].startswith("order IL1 rejected: ")


async def test_non_il_order_causes_no_contact_sync(app: Any) -> None:
    container, store = app
    body = fixture("se-india-uppercase-branch-extra-keys.json")
    outcome = await container.bus.handle(CreateOrder(payload=body))
    assert isinstance(outcome, OrderAccepted)
    assert outcome.order.branch == "se"
    assert store.outbox == []
    assert len(store.events) == 1


async def test_duplicate_answers_the_existing_order_without_side_effects(app: Any) -> None:
    container, store = app
    body = fixture("il-uk-eta.json")
    first = await container.bus.handle(CreateOrder(payload=body))
    again = await container.bus.handle(CreateOrder(payload=copy.deepcopy(body)))
    assert isinstance(first, OrderAccepted)
    assert isinstance(again, OrderAccepted)
    assert again.created is False
    assert again.order.id == first.order.id
    assert len(store.orders) == 1
    assert len(store.events) == 1
    assert len(store.outbox) == 1
    assert [p.status for p in store.payloads] == ["accepted", "duplicate"]


async def test_test_orders_are_skipped_and_archived(app: Any) -> None:
    container, store = app
    outcome = await container.bus.handle(CreateOrder(payload=fixture("il-test-order.json")))
    assert isinstance(outcome, OrderSkipped)
    assert store.orders == {}
    assert store.outbox == []
    assert store.events == []
    assert [(p.status, p.external_order_id) for p in store.payloads] == [
        ("skipped", "IL251103GB99-TEST")
    ]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"form": {}}, "order"),
        ({"order": {"id": "IL1", "amount": 1}}, "form"),
        ({"order": {"amount": 1}, "form": {}}, "order.id"),
        ({"order": {"id": "IL2", "amount": "lots"}, "form": {}}, "order.amount"),
        ([1, 2], None),
    ],
)
async def test_unusable_bodies_are_rejected_naming_the_field_and_archived(
    app: Any, body: Any, field: str | None
) -> None:
    container, store = app
    outcome = await container.bus.handle(CreateOrder(payload=body))
    assert isinstance(outcome, OrderRejected)
    if field is not None:
        assert outcome.field == field
    assert outcome.message
    assert store.orders == {}
    assert [p.status for p in store.payloads] == ["rejected"]
    assert store.payloads[0].error == outcome.message


async def test_mark_processed_counts_only_unprocessed_and_records_one_event(app: Any) -> None:
    container, store = app
    accepted = await container.bus.handle(CreateOrder(payload=fixture("il-uk-eta.json")))
    ids = (accepted.order.id, uuid.uuid4())
    assert await container.bus.handle(MarkOrdersProcessed(ids=ids)) == 1
    assert await container.bus.handle(MarkOrdersProcessed(ids=ids)) == 0
    assert [type(e) for e in store.events] == [OrderCreated, OrdersProcessed]


async def test_mark_processed_refuses_huge_batches(app: Any) -> None:
    container: Container = app[0]
    with pytest.raises(InvalidInput) as info:
        await container.bus.handle(
            MarkOrdersProcessed(ids=tuple(uuid.uuid4() for _ in range(1001)))
        )
    assert info.value.field == "ids"
