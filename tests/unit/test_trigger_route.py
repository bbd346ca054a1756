"""`POST /api/v1/triggers/{key}` on in-memory requests and a scripted bus: the body read as JSON
or form, the caps and refusals before any command, and the handler's errors as HTTP answers."""

from __future__ import annotations

import hashlib
from typing import Any
from uuid import UUID

import orjson
import pytest

from app.errors import Conflict, NotFound
from app.idempotency import IdempotencyKeyReused
from app.workflows.commands import TriggerWebhook
from domain.auth.permissions import Permission
from rest.triggers import trigger_route
from tests.unit.rest_support import ScriptedBus, caller, request

RUN = UUID(int=7)
JSON = {"content-type": "application/json", "idempotency-key": "k1"}


async def post(bus: ScriptedBus, body: bytes = b"{}", *, max_bytes: int = 1024, **kw: Any) -> Any:
    kw.setdefault("headers", JSON)
    kw.setdefault("principal", caller(Permission.WORKFLOWS_RUN))
    req = request(body=body, path_params={"key": kw.pop("key", "follow-up")}, **kw)
    response = await trigger_route(bus, max_bytes)(req)  # type: ignore[arg-type]
    return response.status_code, orjson.loads(response.body)


async def test_a_json_body_becomes_the_commands_body() -> None:
    bus = ScriptedBus(RUN)
    status, body = await post(bus, b'{"order": {"id": "A1"}}')
    assert (status, body) == (202, {"status": "accepted", "runId": str(RUN)})
    (command,) = bus.handled
    assert command == TriggerWebhook(
        key="follow-up",
        body={"order": {"id": "A1"}},
        idempotency_key="k1",
        request_hash=hashlib.sha256(b'application/json\n{"order": {"id": "A1"}}').hexdigest(),
        actor="key:vk_ops",
        correlation_id="cid-1",
    )


async def test_an_empty_json_body_is_an_empty_object() -> None:
    bus = ScriptedBus(RUN)
    await post(bus, b"  ")
    assert bus.handled[0].body == {}


async def test_a_form_body_becomes_a_dict_keeping_blank_values() -> None:
    bus = ScriptedBus(RUN)
    headers = {"content-type": "application/x-www-form-urlencoded", "idempotency-key": "k1"}
    await post(bus, b"name=Ana&note=&city=Tel+Aviv", headers=headers)
    assert bus.handled[0].body == {"name": "Ana", "note": "", "city": "Tel Aviv"}


async def test_the_same_bytes_as_form_and_as_json_hash_differently() -> None:
    bus = ScriptedBus(RUN, RUN)
    await post(bus, b"{}")
    form = {"content-type": "application/x-www-form-urlencoded", "idempotency-key": "k1"}
    await post(bus, b"{}", headers=form)
    assert bus.handled[0].request_hash != bus.handled[1].request_hash


async def test_a_streamed_body_over_the_cap_is_413_without_a_command() -> None:
    bus = ScriptedBus()
    status, body = await post(bus, b'{"a": "' + b"x" * 60 + b'"}', max_bytes=50, chunks=3)
    assert status == 413
    assert body["errors"][0]["extensions"]["code"] == "PAYLOAD_TOO_LARGE"
    assert bus.handled == []


async def test_a_declared_length_over_the_cap_is_413_before_reading() -> None:
    bus = ScriptedBus()
    headers = {**JSON, "content-length": "51"}
    status, _ = await post(bus, b"{}", max_bytes=50, headers=headers)
    assert status == 413


async def test_invalid_json_is_400_naming_the_body() -> None:
    status, body = await post(ScriptedBus(), b"{nope")
    assert status == 400
    assert body["errors"][0]["extensions"] == {"code": "INVALID_INPUT", "field": "body"}


async def test_a_body_not_in_utf8_form_is_400() -> None:
    form = {"content-type": "application/x-www-form-urlencoded", "idempotency-key": "k1"}
    status, _ = await post(ScriptedBus(), b"a=\xff\xfe", headers=form)
    assert status == 400


async def test_another_media_type_is_415() -> None:
    headers = {"content-type": "text/plain", "idempotency-key": "k1"}
    status, _ = await post(ScriptedBus(), b"hi", headers=headers)
    assert status == 415


async def test_a_missing_idempotency_key_is_400_naming_the_header() -> None:
    status, body = await post(ScriptedBus(), headers={"content-type": "application/json"})
    assert status == 400
    assert body["errors"][0]["extensions"]["field"] == "Idempotency-Key"


async def test_a_key_outside_the_pattern_is_404_without_a_command() -> None:
    bus = ScriptedBus()
    status, _ = await post(bus, key="no spaces allowed")
    assert (status, bus.handled) == (404, [])


async def test_a_caller_without_the_permission_is_403() -> None:
    status, _ = await post(ScriptedBus(), principal=caller(Permission.LOGS_READ))
    assert status == 403


@pytest.mark.parametrize(
    ("refusal", "status"),
    [
        (NotFound("no enabled workflow"), 404),
        (IdempotencyKeyReused("another body under the key"), 422),
        (Conflict("the first call has not answered"), 409),
    ],
)
async def test_the_handlers_refusals_become_http_answers(refusal: Exception, status: int) -> None:
    answered, body = await post(ScriptedBus(refusal))
    assert answered == status
    assert body["errors"][0]["message"] == str(refusal.message)  # type: ignore[attr-defined]
