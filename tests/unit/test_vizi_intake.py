"""rest.vizi.intake with a scripted bus: what CreateOrder answered becomes the HTTP status and
body the storefront gets (201 created, 200 duplicate or skipped, 400 not an object, 422 a field)."""

from __future__ import annotations

from typing import Any

from app.orders.commands import CreateOrder, OrderAccepted, OrderRejected, OrderSkipped
from rest.vizi import intake
from tests.unit.handler_support import order
from tests.unit.rest_support import ScriptedBus


async def run(bus: ScriptedBus, raw: bytes, **kw: Any) -> Any:
    return await intake(bus, raw, actor="key:vk_shop", correlation_id="cid-1", **kw)  # type: ignore[arg-type]


async def test_a_created_order_is_201_with_its_ids() -> None:
    stored = order()
    answer = await run(ScriptedBus(OrderAccepted(stored, created=True)), b'{"order": {}}')
    assert answer.status_code == 201
    assert answer.body == {"status": "created", "id": str(stored.id), "orderId": stored.order_id}


async def test_a_duplicate_is_200_naming_the_stored_order() -> None:
    stored = order()
    answer = await run(ScriptedBus(OrderAccepted(stored, created=False)), b'{"order": {}}')
    assert (answer.status_code, answer.body["status"]) == (200, "duplicate")
    assert answer.body["id"] == str(stored.id)


async def test_a_skipped_order_is_200_with_the_bodys_order_id() -> None:
    answer = await run(ScriptedBus(OrderSkipped("test order")), b'{"order": {"id": "T-1"}}')
    assert (answer.status_code, answer.body) == (
        200,
        {"status": "skipped", "id": None, "orderId": "T-1"},
    )


async def test_a_rejected_field_is_422_naming_it() -> None:
    bus = ScriptedBus(OrderRejected("order.id: missing", field="order.id"))
    answer = await run(bus, b'{"order": {}}')
    assert answer.status_code == 422
    (error,) = answer.body["errors"]
    assert error["message"] == "order.id: missing"
    assert error["extensions"] == {
        "code": "INVALID_INPUT",
        "field": "order.id",
        "correlationId": "cid-1",
    }


async def test_a_body_that_is_no_object_is_400() -> None:
    answer = await run(ScriptedBus(OrderRejected("the body must be an object", None)), b"[1]")
    assert answer.status_code == 400
    assert "field" not in answer.body["errors"][0]["extensions"]


async def test_a_body_that_is_not_json_is_400_and_still_handed_over_as_text() -> None:
    bus = ScriptedBus(OrderRejected("the body must be an object", None))
    answer = await run(bus, b"{not json")
    assert answer.status_code == 400
    assert answer.body["errors"][0]["message"].startswith("The body is not valid JSON")
    (command,) = bus.handled
    assert command.payload == "{not json"  # archived as received


async def test_the_command_carries_the_caller_and_the_key() -> None:
    bus = ScriptedBus(OrderSkipped("test"))
    await run(bus, b'{"a": 1}', idempotency_key="k-1")
    assert bus.handled == [
        CreateOrder(
            payload={"a": 1},
            source="vizi",
            idempotency_key="k-1",
            actor="key:vk_shop",
            correlation_id="cid-1",
        )
    ]
