"""`POST /api/v1/triggers/{key}`: start the workflow owning a webhook trigger key (202 + run id).

Needs `workflows:run` and an `Idempotency-Key` (a retried call gets the same run); the body is
JSON or form-urlencoded, at most `trigger_max_body_bytes` (512 KB), and becomes `{{body.…}}`.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qsl

import orjson
from starlette.requests import Request
from starlette.responses import Response

from app.bus import MessageBus
from app.errors import Conflict, NotFound
from app.idempotency import IdempotencyKeyReused
from app.workflows.commands import TriggerWebhook
from domain.auth.permissions import Permission
from domain.workflows.schema import KEY_PATTERN
from rest.gate import require
from rest.middleware import error_body

JSON = "application/json; charset=utf-8"
_KEY = re.compile(KEY_PATTERN)
_IDEMPOTENCY_KEY = re.compile(r"^[\x21-\x7e]{1,128}$")  # visible ASCII, like the order webhook


class _TooLarge(Exception):
    pass


def _error(status: int, message: str, code: str, **extra: Any) -> Response:
    return Response(error_body(message, code, **extra), status, media_type=JSON)


async def _body(request: Request, cap: int) -> bytes:
    length = request.headers.get("content-length", "")
    if length.isdigit() and int(length) > cap:
        raise _TooLarge
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > cap:
            raise _TooLarge
        chunks.append(chunk)
    return b"".join(chunks)


def _parse(media: str, raw: bytes) -> Any:
    if media == "application/json":
        return orjson.loads(raw) if raw.strip() else {}
    return dict(parse_qsl(raw.decode("utf-8"), keep_blank_values=True))


def trigger_route(bus: MessageBus, max_bytes: int) -> Callable[..., Any]:
    async def trigger(request: Request) -> Response:
        denied = require(request, Permission.WORKFLOWS_RUN)
        if denied is not None:
            return denied
        key = request.path_params["key"]
        if not _KEY.match(key):
            return _error(404, f"no webhook trigger {key[:64]!r}", "NOT_FOUND")
        idempotency_key = request.headers.get("idempotency-key", "").strip()
        if not _IDEMPOTENCY_KEY.match(idempotency_key):
            return _error(
                400,
                "the Idempotency-Key header is required (1-128 visible ASCII characters)",
                "INVALID_INPUT",
                field="Idempotency-Key",
            )
        media = request.headers.get("content-type", "application/json").split(";")[0].strip()
        if media not in ("application/json", "application/x-www-form-urlencoded"):
            return _error(415, "send application/json or form-urlencoded", "UNSUPPORTED_MEDIA_TYPE")
        try:
            raw = await _body(request, max_bytes)
            body = _parse(media, raw)
        except _TooLarge:
            return _error(413, f"the body is larger than {max_bytes} bytes", "PAYLOAD_TOO_LARGE")
        except (orjson.JSONDecodeError, UnicodeDecodeError):
            return _error(400, "the body is not valid JSON", "INVALID_INPUT", field="body")
        state = request.scope.get("state") or {}
        principal = state.get("principal")
        command = TriggerWebhook(
            key=key,
            body=body,
            idempotency_key=idempotency_key,
            request_hash=hashlib.sha256(media.encode() + b"\n" + raw).hexdigest(),
            actor=principal.actor if principal else None,
            correlation_id=state.get("correlation_id"),
        )
        try:
            run_id = await bus.handle(command)
        except NotFound as exc:
            return _error(404, exc.message, "NOT_FOUND")
        except IdempotencyKeyReused as exc:
            return _error(422, exc.message, exc.code, field="Idempotency-Key")
        except Conflict as exc:  # RequestInProgress too: the first call has not answered yet
            return _error(409, exc.message, "CONFLICT")
        body_out = orjson.dumps({"status": "accepted", "runId": str(run_id)})
        return Response(body_out, 202, media_type=JSON)

    return trigger
