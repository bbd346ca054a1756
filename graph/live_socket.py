"""Subscription connections: WebSocket (graphql-transport-ws) authentication and limits, and
the watch that closes a revoked caller's connections on every process.

Credentials come in `connection_init` (`X-API-Key` or `Authorization`, as the HTTP headers
would carry them), checked like an HTTP request's, failed attempts counted by the same lockout;
without valid ones the socket closes with 4403. Every open connection, WebSocket or SSE, is
registered here, and while any is open each process asks the database every
VISAPI_SUBSCRIPTION_RECHECK_S which keys were revoked and which users changed since it last
asked: those callers' connections close (WebSocket: 4403), as do those whose key has expired.
The database is the stamp, so a lost Redis message cannot keep a revoked key listening.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Callable, Coroutine, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson
from starlette.websockets import WebSocketDisconnect
from strawberry.asgi import ASGIWebSocketAdapter
from strawberry.exceptions import ConnectionRejectionError
from strawberry.http.exceptions import WebSocketDisconnected
from strawberry.subscriptions.protocols.graphql_transport_ws.handlers import (
    BaseGraphQLTransportWSHandler,
    Operation,
)
from strawberry.subscriptions.protocols.graphql_transport_ws.types import CompleteMessage
from strawberry.types.execution import ExecutionResult, PreExecutionError
from strawberry.utils.aio import aclosing

from app.auth.access import Access
from app.auth.credentials import params_credential
from app.auth.lockout import LockedOut
from app.errors import Unauthenticated
from app.live import LiveMetrics
from domain.auth.permissions import Principal
from graph.document_refs import with_document_id

log = logging.getLogger("visapi.live")

REVOKED = 4403  # graphql-transport-ws's Forbidden: the credentials no longer hold
SLOW = 1013  # Try Again Later: the client read slower than events came
# How far back each revocation check looks beyond the last one: clocks and commits overlap.
OVERLAP = timedelta(seconds=1)


@dataclass(eq=False)
class Connection:
    principal: Principal
    transport: str  # ws or sse
    close: Callable[[int, str], Coroutine[Any, Any, None]]


@dataclass
class Connections:
    """This process's open subscription connections, and the revocation watch over them."""

    access: Access
    recheck_s: float
    metrics: LiveMetrics | None = None
    now: Callable[[], datetime] = field(default=lambda: datetime.now(UTC))
    _open: set[Connection] = field(default_factory=set)
    _watch: asyncio.Task[None] | None = None

    def __len__(self) -> int:
        return len(self._open)

    def add(self, connection: Connection) -> None:
        self._open.add(connection)
        if self.metrics is not None:
            self.metrics.live_connections(connection.transport, 1)
        if self._watch is None or self._watch.done():
            self._watch = asyncio.get_running_loop().create_task(self._recheck())

    def discard(self, connection: Connection) -> None:
        if connection in self._open:
            self._open.discard(connection)
            if self.metrics is not None:
                self.metrics.live_connections(connection.transport, -1)

    async def authenticate(self, params: Any, ip: str) -> Principal:
        """The caller of a `connection_init` payload; Unauthenticated or LockedOut."""
        if not isinstance(params, dict):
            raise Unauthenticated("connection_init's payload must be an object")
        try:
            credential = params_credential(params)
        except Unauthenticated:
            await self.access.lockout.failed(ip, None)
            raise
        if credential is None:
            raise Unauthenticated(
                "send an API key (X-API-Key) or a bearer token (Authorization) in"
                " connection_init's payload"
            )
        return await self.access.lockout.authenticate(credential, ip, self.access.authenticate)

    async def _recheck(self) -> None:
        since = self.now() - OVERLAP
        while self._open:
            await asyncio.sleep(self.recheck_s)
            started = self.now()
            try:
                changed = await self.access.reads.changed_since(since)
            except Exception as exc:  # the database is away: ask again next time, from `since`
                log.warning("revocation check failed (%s: %s)", type(exc).__name__, exc)
                continue
            since = started - OVERLAP
            for connection in list(self._open):
                principal = connection.principal
                expired = principal.expires_at is not None and principal.expires_at <= started
                if principal.id in changed or expired:
                    self.discard(connection)
                    why = (
                        "Forbidden: the credentials expired"
                        if expired
                        else ("Forbidden: the credentials were revoked or changed")
                    )
                    log.info(
                        "closing %s subscriptions of %s: %s",
                        connection.transport,
                        principal.actor,
                        why,
                    )
                    with contextlib.suppress(Exception):
                        await connection.close(REVOKED, why)


class TextSocket(ASGIWebSocketAdapter):
    """graphql-transport-ws messages are text frames: Strawberry's adapter sends the view's
    bytes (orjson) as binary frames, which a browser hands over as a Blob the graphql-ws
    client cannot read."""

    async def send_json(self, message: Mapping[str, object]) -> None:
        encoded = self.view.encode_json(message)
        try:
            await self.ws.send_text(encoded.decode() if isinstance(encoded, bytes) else encoded)
        except WebSocketDisconnect as exc:
            raise WebSocketDisconnected from exc


class LiveSocketHandler(BaseGraphQLTransportWSHandler[Any, None]):
    """Strawberry's graphql-transport-ws handler, passing each subscription's `extensions` on
    (so the persisted-documents rule holds over WebSocket as over HTTP) and registering the
    connection once its `connection_init` is accepted (`accept`)."""

    async def handle_subscribe(self, message: Any) -> None:
        payload = message.get("payload") if isinstance(message, dict) else None
        if isinstance(payload, dict):
            extensions = payload.get("extensions")
            self._extensions()[str(message.get("id"))] = with_document_id(
                payload, extensions if isinstance(extensions, dict) else None
            )
        await super().handle_subscribe(message)

    def _extensions(self) -> dict[str, Any]:
        if not hasattr(self, "_by_id"):
            self._by_id: dict[str, Any] = {}
        return self._by_id

    async def run_operation(self, operation: Operation[Any, None]) -> None:
        """Strawberry's, with the operation's extensions passed to the schema."""
        extensions = self._extensions().pop(operation.id, None)
        try:
            result_source = await self.schema.stream(
                operation.query,
                variable_values=operation.variables,
                context_value=self.context,
                root_value=self.root_value,
                operation_name=operation.operation_name,
                operation_extensions=extensions,
            )
            async with aclosing(result_source):
                await self._send_results(operation, result_source)
            await operation.send_operation_message(
                CompleteMessage(id=operation.id, type="complete")
            )
        except _Closed:
            return
        except Exception as error:
            await self.handle_task_exception(error)
            with contextlib.suppress(Exception):
                await operation.send_operation_message({"id": operation.id, "type": "complete"})
            self.operations.pop(operation.id, None)
            raise

    async def _send_results(self, operation: Operation[Any, None], source: Any) -> None:
        first = True
        async for result in source:
            if first and isinstance(result, PreExecutionError):
                errors = result.errors or []
                if errors and (reason := self._get_pre_execution_close_reason(errors[0])):
                    await self.websocket.close(code=4400, reason=reason)
                    self.operations.pop(operation.id, None)
                    raise _Closed
                await operation.send_initial_errors(errors)
                return
            if not isinstance(result, ExecutionResult):
                await self._reject_incremental_delivery(operation)
                return
            await operation.send_next(result)
            first = False

    async def shutdown(self) -> None:
        connection = getattr(self.context, "connection", None)
        if connection is not None:
            self.context.connections.discard(connection)
        await super().shutdown()


_END: Any = object()
_closing: set[asyncio.Task[None]] = set()  # close tasks, kept alive until they finish


def drop_slow(context: Any, reason: str) -> None:
    """A subscriber fell behind its buffer: its WebSocket closes with 1013 (its SSE stream
    ends with the error); the bounded buffer already stopped it growing."""
    connection: Connection | None = getattr(context, "connection", None)
    if connection is None or connection.transport != "ws":
        return
    context.connections.discard(connection)
    task = asyncio.get_running_loop().create_task(connection.close(SLOW, reason[:120]))
    _closing.add(task)
    task.add_done_callback(_closing.discard)


class _Closed(Exception):
    """The operation closed the socket instead of completing."""


async def accept(context: Any, ip: str) -> None:
    """`on_ws_connect`: the caller of the payload becomes the context's principal, and the
    connection is registered (the handler's `shutdown` forgets it)."""
    connections: Connections = context.connections
    try:
        principal = await connections.authenticate(context.connection_params, ip)
    except (Unauthenticated, LockedOut) as refused:
        log.info("subscription connection refused from %s: %s", ip, refused)
        raise ConnectionRejectionError from None
    context.principal, context.actor = principal, principal.actor

    socket = context.request  # Starlette's WebSocket

    async def close(code: int, reason: str) -> None:
        await socket.close(code=code, reason=reason)

    context.connection = Connection(principal, "ws", close)
    connections.add(context.connection)


def sse_stream(
    stream: Callable[[], AsyncIterator[str]],
    connections: Connections | None,
    principal: Principal | None,
) -> Callable[[], AsyncIterator[str]]:
    """An SSE response's stream, registered as a connection while it runs: revoking its
    caller ends it with an error event, then `complete`."""
    if connections is None or principal is None:
        return stream

    async def guarded() -> AsyncIterator[str]:
        stopped: asyncio.Future[str] = asyncio.get_running_loop().create_future()

        async def close(code: int, reason: str) -> None:
            if not stopped.done():
                stopped.set_result(reason)

        connection = Connection(principal, "sse", close)
        connections.add(connection)
        source = stream().__aiter__()
        try:
            while True:
                step = asyncio.ensure_future(anext(source, _END))
                await asyncio.wait({step, stopped}, return_when=asyncio.FIRST_COMPLETED)
                if not step.done():
                    step.cancel()
                    with contextlib.suppress(asyncio.CancelledError):
                        await step
                    error = {"message": stopped.result(), "extensions": {"code": "FORBIDDEN"}}
                    data = orjson.dumps({"errors": [error]}).decode()
                    yield f"event: next\r\ndata: {data}\r\n\r\n"
                    yield "event: complete\r\ndata: \r\n\r\n"
                    return
                chunk = step.result()
                if chunk is _END:
                    return
                yield chunk
        finally:
            connections.discard(connection)
            with contextlib.suppress(Exception):
                await source.aclose()  # type: ignore[attr-defined]

    return guarded
