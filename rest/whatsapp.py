"""`GET/POST /api/v1/webhooks/whatsapp`: Meta's verify-token handshake and delivery statuses.

No API key: Meta cannot send one. The GET proves the URL to Meta with the verify token; every
POST is authenticated by its HMAC-SHA256 signature over the raw body with the app secret. Without
the secret nothing is accepted (503): an unchecked endpoint would let anyone mark messages read.
"""

from __future__ import annotations

import hashlib
import hmac

import orjson
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from app.bus import MessageBus
from app.notifications.deliveries import DeliveriesRecorded, RecordDeliveryEvents
from rest.middleware import error_body

PATH = "/api/v1/webhooks/whatsapp"
SIGNATURE_HEADER = "X-Hub-Signature-256"
JSON = "application/json; charset=utf-8"


def signature_of(body: bytes, secret: str) -> str:
    """The `X-Hub-Signature-256` value Meta sends for `body`."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def signed(body: bytes, header: str | None, secret: str) -> bool:
    if header is None:
        return False
    # Constant time, on bytes: a timing difference must not reveal how much of a guess matched.
    return hmac.compare_digest(header.strip().encode(), signature_of(body, secret).encode())


def _error(status: int, message: str, code: str, request: Request) -> Response:
    cid = (request.scope.get("state") or {}).get("correlation_id")
    extensions = {"correlationId": cid} if cid else {}
    return Response(error_body(message, code, **extensions), status, media_type=JSON)


def whatsapp_routes(
    bus: MessageBus, *, verify_token: str | None, app_secret: str | None
) -> list[Route]:
    async def verify(request: Request) -> Response:
        expected = verify_token
        if not expected:
            message = "WhatsApp webhook verification is not configured."
            return _error(503, message, "UNAVAILABLE", request)
        query = request.query_params
        token = query.get("hub.verify_token", "")
        if query.get("hub.mode") == "subscribe" and hmac.compare_digest(
            token.encode(), expected.encode()
        ):
            return PlainTextResponse(query.get("hub.challenge", ""))
        return _error(403, "hub.mode or hub.verify_token is wrong.", "FORBIDDEN", request)

    async def receive(request: Request) -> Response:
        secret = app_secret
        if not secret:
            message = "WhatsApp webhooks are not configured (no app secret)."
            return _error(503, message, "UNAVAILABLE", request)
        raw = await request.body()
        if not signed(raw, request.headers.get(SIGNATURE_HEADER), secret):
            message = f"{SIGNATURE_HEADER} is missing or does not match the body."
            return _error(401, message, "UNAUTHENTICATED", request)
        try:
            payload = orjson.loads(raw)
        except orjson.JSONDecodeError as exc:
            # Signed by Meta yet unreadable: kept (as text) for inspection, refused with 400.
            text = raw.decode("utf-8", "replace")
            await bus.handle(RecordDeliveryEvents(payload=text, well_formed=False))
            return _error(400, f"The body is not valid JSON: {exc}", "INVALID_INPUT", request)
        recorded: DeliveriesRecorded = await bus.handle(RecordDeliveryEvents(payload=payload))
        return Response(orjson.dumps({"received": recorded.counts}), 200, media_type=JSON)

    return [
        Route(PATH, verify, methods=["GET"]),
        Route(PATH, receive, methods=["POST"]),
    ]
