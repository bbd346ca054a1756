"""A fake CBB (and Slack incoming webhook) for tests and local runs: `visapi fake-vendors`.

CBB: `GET /contacts/{phone}` (`{}` when unknown), `POST /contacts`, `POST /contacts/{id}/
custom_fields/{field_id}` (form `value=`), `POST /contacts/{phone}/send_content`; each checks
`X-ACCESS-TOKEN` (401 otherwise). Slack: `POST /slack/{path}`. Control under `/_fake/`:
`POST script` ({operation, outcome, times, status, retry_after, delay, message}), `GET requests
?operation=` (the token redacted), `GET contacts`, `GET messages`, `POST fields`, `POST reset`,
and `POST statuses` / `GET statuses`: Meta's delivery webhooks for accepted messages
(fake_statuses.py).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from infrastructure.vendors.fake_state import FakeVendorState, Scripted, ScriptError
from infrastructure.vendors.fake_statuses import StatusHook, StatusHookError, StatusReporter

Handler = Callable[[Request, Any, bool], Awaitable[Response]]


def _refuse(status: int, message: str) -> JSONResponse:
    return JSONResponse({"success": False, "message": message}, status)


async def _body(request: Request) -> Any:
    raw = await request.body()
    if not raw:
        return None
    kind = request.headers.get("content-type", "")
    if kind.startswith("application/x-www-form-urlencoded"):
        return dict(await request.form())
    try:
        return await request.json()
    except ValueError:
        return raw.decode(errors="replace")


def _headers(request: Request) -> dict[str, str]:
    return {k: ("[redacted]" if k == "x-access-token" else v) for k, v in request.headers.items()}


def create_fake_vendor(token: str) -> Starlette:
    state, reporter = FakeVendorState(token), StatusReporter()
    cbb, control = _Cbb(state, token, reporter), _Control(state, reporter)
    app = Starlette(
        routes=[
            Route(
                "/contacts", cbb.endpoint("contact.create", cbb.create_contact), methods=["POST"]
            ),
            Route(
                "/contacts/{phone}", cbb.endpoint("contact.get", cbb.get_contact), methods=["GET"]
            ),
            Route(
                "/contacts/{contact}/custom_fields/{field_id}",
                cbb.endpoint("field.update", cbb.update_field),
                methods=["POST"],
            ),
            Route(
                "/contacts/{phone}/send_content",
                cbb.endpoint("message.send", cbb.send_content),
                methods=["POST"],
            ),
            Route(
                "/slack/{path:path}",
                cbb.endpoint("slack.send", _slack, checks_token=False),
                methods=["POST"],
            ),
            Route("/_fake/script", control.script, methods=["POST"]),
            Route("/_fake/requests", control.requests, methods=["GET"]),
            Route("/_fake/contacts", control.contacts, methods=["GET"]),
            Route("/_fake/messages", control.messages, methods=["GET"]),
            Route("/_fake/fields", control.fields, methods=["POST"]),
            Route("/_fake/reset", control.reset, methods=["POST"]),
            Route("/_fake/statuses", control.statuses, methods=["GET", "POST"]),
        ]
    )
    app.state.fake = state
    return app


class _Cbb:
    """The vendor's side: every request recorded, then answered as scripted or as CBB would."""

    def __init__(self, state: FakeVendorState, token: str, reporter: StatusReporter) -> None:
        self._state = state
        self._token = token
        self._reporter = reporter

    def endpoint(
        self, operation: str, handle: Handler, *, checks_token: bool = True
    ) -> Callable[[Request], Awaitable[Response]]:
        async def endpoint(request: Request) -> Response:
            body = await _body(request)
            sent = request.headers.get("x-access-token")
            record = self._state.record(
                {
                    "operation": operation,
                    "method": request.method,
                    "path": request.url.path,
                    "query": dict(request.query_params),
                    "headers": _headers(request),
                    "body": body,
                    "token_ok": sent == self._token,
                }
            )
            if checks_token and sent != self._token:
                response: Response = _refuse(401, "invalid access token")
            else:
                response = await _answer(self._state.take(operation), request, body, handle)
            record["status"] = response.status_code
            return response

        return endpoint

    async def get_contact(self, request: Request, body: Any, omit_id: bool) -> Response:
        contact = self._state.find(request.path_params["phone"])
        if contact is None:
            return JSONResponse({})  # CBB's answer for a phone it does not know
        return JSONResponse(_without_id(contact) if omit_id else contact)

    async def create_contact(self, request: Request, body: Any, omit_id: bool) -> Response:
        phone = body.get("phone") if isinstance(body, dict) else None
        if not isinstance(body, dict) or not isinstance(phone, str) or not phone:
            return _refuse(400, "phone is required")
        fields: dict[str, str] = {}
        for action in body.get("actions") or []:
            if not isinstance(action, dict) or action.get("action") != "set_field_value":
                return _refuse(400, "unsupported action")
            name = action.get("field_name")
            if not isinstance(name, str):
                return _refuse(400, "field_name is required (field_id is not accepted here)")
            if self._state.field_id(name) is None:
                return _refuse(400, f"unknown custom field {name!r}")
            fields[name] = str(action.get("value", ""))
        basic = {k: body.get(k) for k in ("phone", "first_name", "last_name", "email", "gender")}
        basic["language"] = body.get("language")
        contact = self._state.create(basic, fields)
        answer = {"success": True, "id": contact["id"], "phone": contact["phone"]}
        return JSONResponse(_without_id(answer) if omit_id else answer)

    async def update_field(self, request: Request, body: Any, omit_id: bool) -> Response:
        contact = self._state.find(request.path_params["contact"])
        if contact is None:
            return _refuse(404, "contact not found")
        # System fields have negative ids (Email is -12): Starlette's `int` convertor would not
        # route them at all, so the id is parsed here.
        raw = request.path_params["field_id"]
        name = self._state.field_name(int(raw)) if raw.lstrip("-").isdigit() else None
        if name is None:
            return _refuse(400, f"unknown custom field {request.path_params['field_id']}")
        if not isinstance(body, dict) or "value" not in body:
            return _refuse(400, "value is required (form-encoded)")
        self._state.set_field(contact["id"], name, str(body["value"]))
        return JSONResponse({"success": True})

    async def send_content(self, request: Request, body: Any, omit_id: bool) -> Response:
        phone = request.path_params["phone"]
        if self._state.find(phone) is None:
            return _refuse(404, "contact not found")
        messages = body.get("messages") if isinstance(body, dict) else None
        if not isinstance(messages, list) or not messages:
            return _refuse(400, "messages must be a non-empty list")
        parsed = [_template(m) for m in messages]
        if any(p is None for p in parsed):
            return _refuse(400, "each message needs a template with a name and a language code")
        ids = [self._state.add_message({"phone": phone, **p})["id"] for p in parsed if p]
        for id in ids:
            self._reporter.accepted(id, phone)
        if omit_id:
            return JSONResponse({"success": True})
        return JSONResponse({"success": True, "messages": [{"id": i} for i in ids]})


class _Control:
    """The test's side under /_fake/: script the next answers, read what was received."""

    def __init__(self, state: FakeVendorState, reporter: StatusReporter) -> None:
        self._state = state
        self._reporter = reporter

    async def script(self, request: Request) -> Response:
        try:
            operation, entry = Scripted.parse(await _body(request))
        except ScriptError as exc:
            return _refuse(400, str(exc))
        self._state.script(operation, entry)
        return JSONResponse({"scripts": self._state.scripts()})

    async def requests(self, request: Request) -> Response:
        return JSONResponse(self._state.requests(request.query_params.get("operation")))

    async def contacts(self, request: Request) -> Response:
        return JSONResponse(self._state.contacts())

    async def messages(self, request: Request) -> Response:
        return JSONResponse(self._state.messages())

    async def fields(self, request: Request) -> Response:
        body = await _body(request)
        given = body.get("fields") if isinstance(body, dict) else None
        if not isinstance(given, dict) or not all(isinstance(v, int) for v in given.values()):
            return _refuse(400, 'send {"fields": {"name": id, ...}} with integer ids')
        self._state.add_fields(given)
        return JSONResponse({"success": True})

    async def statuses(self, request: Request) -> Response:
        if request.method == "POST":
            try:
                self._reporter.configure(StatusHook.parse(await _body(request)))
            except StatusHookError as exc:
                return _refuse(400, str(exc))
        return JSONResponse(self._reporter.summary())

    async def reset(self, request: Request) -> Response:
        self._state.reset()
        self._reporter.configure(None)
        return JSONResponse({"success": True})


async def _answer(
    scripted: Scripted | None, request: Request, body: Any, handle: Handler
) -> Response:
    """The scripted failure when one is due, else the handler's answer (its id left out when
    the script says so, to exercise the client's handling of an answer without one)."""
    if scripted is None:
        return await handle(request, body, False)
    await asyncio.sleep(scripted.delay_s)
    if scripted.outcome == "success_false":
        return JSONResponse({"success": False, "message": scripted.message})
    if scripted.outcome == "status":
        return _refuse(scripted.status, scripted.message)
    if scripted.outcome == "rate_limit":
        response = _refuse(429, "too many requests")
        response.headers["retry-after"] = scripted.retry_after
        return response
    return await handle(request, body, scripted.outcome == "omit_id")


async def _slack(request: Request, body: Any, omit_id: bool) -> Response:
    if not isinstance(body, dict):
        return PlainTextResponse("invalid_payload", 400)
    if not body.get("text") and not body.get("blocks"):
        return PlainTextResponse("no_text", 400)
    return PlainTextResponse("ok")


def _without_id(answer: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in answer.items() if k != "id"}


def _template(message: Any) -> dict[str, Any] | None:
    """The template of one Meta-style message, or None when it is not one."""
    template = message.get("template") if isinstance(message, dict) else None
    if not isinstance(template, dict) or not template.get("name"):
        return None
    language = template.get("language")
    code = language.get("code") if isinstance(language, dict) else None
    components = template.get("components") or []
    if not code or not isinstance(components, list):
        return None
    params = [
        p.get("text") if isinstance(p, dict) else p
        for c in components
        if isinstance(c, dict) and c.get("type") == "body"
        for p in c.get("parameters") or []
    ]
    return {
        "template": template["name"],
        "language": code,
        "params": params,
        "reference": message.get("biz_opaque_callback_data"),
    }
