"""`POST /api/v1/webhooks/vizi/orders`: the storefront's order webhook, with idempotency keys.

The same CreateOrder command as the GraphQL mutation; the answer is `{status, id, orderId}`:
`created` 201, `duplicate` or `skipped` 200. A body that cannot be stored is a 4xx naming what
is wrong (400 when it is not a JSON object at all, 422 naming the field); either way the body
is archived by the command first.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

import orjson
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from app.bus import MessageBus
from app.errors import AppError, Unavailable
from app.idempotency import (
    MAX_KEY_LENGTH,
    Answer,
    IdempotencyKeyReused,
    RequestInProgress,
    check_key,
    fingerprint,
    run_once,
)
from app.orders.archive import ArchiveBody
from app.orders.commands import CreateOrder, OrderAccepted, OrderRejected, OrderSkipped
from app.services import Services
from domain.auth.permissions import Permission
from rest.gate import require

PATH = "/api/v1/webhooks/vizi/orders"
KEY_HEADER = "X-Idempotency-Key"
SCOPE = "vizi:orders"
SOURCE = "vizi"
JSON = "application/json; charset=utf-8"
REPLAYED = "Idempotent-Replayed"
# Answers are serialised with sorted keys: a replay read back from JSONB (which reorders keys)
# is then byte for byte the first answer.
DUMP = orjson.OPT_SORT_KEYS
ERROR_STATUS = {
    IdempotencyKeyReused: 422,
    RequestInProgress: 409,
    Unavailable: 503,
}


def error_document(message: str, code: str, correlation_id: str | None, **extensions: Any) -> Any:
    """The one error format (rest.middleware.error_body), as a document to store."""
    if correlation_id:
        extensions["correlationId"] = correlation_id
    return {"errors": [{"message": message, "extensions": {"code": code, **extensions}}]}


def answer_response(answer: Answer, *, replayed: bool = False) -> Response:
    headers = {REPLAYED: "true"} if replayed else None
    return Response(orjson.dumps(answer.body, option=DUMP), answer.status_code, headers, JSON)


async def intake(
    bus: MessageBus,
    raw: bytes,
    *,
    actor: str | None,
    correlation_id: str | None,
    idempotency_key: str | None = None,
) -> Answer:
    """Run CreateOrder on the raw body and say what happened as an HTTP answer."""
    try:
        payload: Any = orjson.loads(raw)
        not_json = None
    except orjson.JSONDecodeError as exc:
        # Still archived (as text): "every body as received, whatever happens next".
        payload, not_json = raw.decode("utf-8", "replace"), str(exc)
    outcome = await bus.handle(
        CreateOrder(
            payload=payload,
            source=SOURCE,
            idempotency_key=idempotency_key,
            actor=actor,
            correlation_id=correlation_id,
        )
    )
    if isinstance(outcome, OrderAccepted):
        order = outcome.order
        status = "created" if outcome.created else "duplicate"
        body = {"status": status, "id": str(order.id), "orderId": order.order_id}
        return Answer(201 if outcome.created else 200, body)
    if isinstance(outcome, OrderSkipped):
        inner = payload.get("order") if isinstance(payload, dict) else None
        order_id = inner.get("id") if isinstance(inner, dict) else None
        return Answer(200, {"status": "skipped", "id": None, "orderId": order_id})
    assert isinstance(outcome, OrderRejected)
    if not_json is not None:
        message = f"The body is not valid JSON: {not_json}"
        return Answer(400, error_document(message, "INVALID_INPUT", correlation_id))
    if outcome.field is None:  # not an object at all
        return Answer(400, error_document(outcome.message, "INVALID_INPUT", correlation_id))
    document = error_document(outcome.message, "INVALID_INPUT", correlation_id, field=outcome.field)
    return Answer(422, document)


def vizi_routes(services: Services) -> list[Route]:
    async def receive_order(request: Request) -> Response:
        for needed in (Permission.WEBHOOK_VIZI, Permission.LOGS_WRITE):
            denied = require(request, needed)
            if denied is not None:
                return denied
        state = request.scope.get("state") or {}
        actor: str = state["principal"].actor
        cid: str | None = state.get("correlation_id")
        c = services
        raw = await request.body()
        key = request.headers.get(KEY_HEADER)
        if key is None:
            return answer_response(await intake(c.bus, raw, actor=actor, correlation_id=cid))

        async def run() -> Answer:
            return await intake(c.bus, raw, actor=actor, correlation_id=cid, idempotency_key=key)

        try:
            answer, replayed = await run_once(
                c.idempotency,
                SCOPE,
                check_key(key, KEY_HEADER),
                fingerprint(raw),
                run,
                policy=c.idempotency_policy,
                now=_utcnow,
                new_id=uuid.uuid4,
                header=KEY_HEADER,
            )
        except AppError as exc:
            status = next((s for t, s in ERROR_STATUS.items() if isinstance(exc, t)), 400)
            if status in (409, 422):
                await _archive(c.bus, raw, "rejected", key, actor, cid, error=exc.message)
            extra = {"field": exc.field} if exc.field else {}
            document = error_document(exc.message, exc.code, cid, **extra)
            return answer_response(Answer(status, document))
        if replayed:
            await _archive(c.bus, raw, "duplicate", key, actor, cid, answer=answer)
        return answer_response(answer, replayed=replayed)

    return [Route(PATH, receive_order, methods=["POST"])]


async def _archive(
    bus: MessageBus,
    raw: bytes,
    status: str,
    key: str,
    actor: str,
    cid: str | None,
    *,
    error: str | None = None,
    answer: Answer | None = None,
) -> None:
    """Archive a body answered without running CreateOrder (a replay, a refused key)."""
    try:
        payload: Any = orjson.loads(raw)
    except orjson.JSONDecodeError:
        payload = raw.decode("utf-8", "replace")
    order = answer.body.get("id") if answer and isinstance(answer.body, dict) else None
    if answer is not None and answer.status_code >= 400:
        status, error = "rejected", "replayed the first answer, a refusal"
    await bus.handle(
        ArchiveBody(
            payload=payload,
            source=SOURCE,
            status=status,
            idempotency_key=key[:MAX_KEY_LENGTH],
            error=error,
            order_uuid=uuid.UUID(order) if isinstance(order, str) else None,
            actor=actor,
            correlation_id=cid,
        )
    )


def _utcnow() -> datetime:
    return datetime.now(UTC)
