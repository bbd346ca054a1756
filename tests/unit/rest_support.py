"""Starlette requests built in memory (a scope and a receive callable, no socket), callers,
and a bus that answers from a script, for the REST delivery's unit tests."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from uuid import uuid4

from starlette.requests import Request
from starlette.types import Message

from domain.auth.permissions import Permission, Principal, PrincipalKind


def request(
    *,
    method: str = "POST",
    path: str = "/",
    headers: Mapping[str, str] | None = None,
    body: bytes = b"",
    query: str = "",
    path_params: Mapping[str, str] | None = None,
    principal: Principal | None = None,
    chunks: int = 1,
) -> Request:
    size = max(1, -(-len(body) // chunks))  # the body in `chunks` messages, as a client streams
    parts = [body[i : i + size] for i in range(0, len(body), size)] or [b""]
    messages: list[Message] = [
        {"type": "http.request", "body": p, "more_body": i < len(parts) - 1}
        for i, p in enumerate(parts)
    ]

    async def receive() -> Message:
        return messages.pop(0) if messages else {"type": "http.disconnect"}

    scope: dict[str, Any] = {
        "type": "http",
        "method": method,
        "path": path,
        "query_string": query.encode(),
        "headers": [(k.lower().encode(), v.encode()) for k, v in (headers or {}).items()],
        "path_params": dict(path_params or {}),
        "state": {"principal": principal, "correlation_id": "cid-1"},
    }
    return Request(scope, receive)


def caller(*permissions: Permission) -> Principal:
    return Principal(
        PrincipalKind.API_KEY, uuid4(), "ops", frozenset(permissions), key_prefix="vk_ops"
    )


class ScriptedBus:
    """The bus as delivery sees it: records each command, answers (or raises) from a script."""

    def __init__(self, *answers: Any) -> None:
        self.answers = list(answers)
        self.handled: list[Any] = []

    async def handle(self, command: Any) -> Any:
        self.handled.append(command)
        answer = self.answers.pop(0)
        if isinstance(answer, BaseException):
            raise answer
        return answer
