"""The /graphql view: Strawberry's ASGI view speaking GraphQL over HTTP, encoded with orjson."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Callable, Mapping
from datetime import timedelta
from typing import Any

import orjson
from cross_web import AsyncHTTPRequestAdapter, HTTPException
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.types import Receive, Scope, Send
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL
from strawberry.http import GraphQLHTTPResponse, GraphQLRequestData
from strawberry.http.parse_content_type import parse_content_type
from strawberry.schema.base import BaseSchema
from strawberry.schema.exceptions import InvalidOperationTypeError
from strawberry.subscriptions import GRAPHQL_SSE_PROTOCOL, GRAPHQL_TRANSPORT_WS_PROTOCOL
from strawberry.types import ExecutionResult

from app.services import Services
from graph import document_refs
from graph.context import Context
from graph.http_answers import (
    GRAPHQL_RESPONSE,
    HTTP_CODES,
    JSON,
    REFUSAL_STATUS,
    code_of,
    coded,
    content_type,
    default,
    execute_once,
    is_request_error,
    negotiate,
    too_long,
)
from graph.live_socket import Connections, LiveSocketHandler, TextSocket, accept, sse_stream
from graph.permissions import UNAUTHENTICATED_MESSAGE
from graph.response_cache import Responses
from graph.subscribers import Subscribers


class GraphQLView(GraphQL[Context, None]):
    """GET (queries only) and POST with JSON bodies; GraphiQL for browsers when enabled;
    subscriptions over WebSocket (graphql-transport-ws) and SSE (graphql-sse, POST) when
    `subscribers` is given.

    Well-formed requests answered as application/json get 200 whatever their GraphQL errors (the
    spec's legacy rules); as application/graphql-response+json a request error (parse,
    validation, variable coercion: no `data`) gets 400. Malformed HTTP requests get 4xx with a
    GraphQL-shaped body in either media type.
    """

    def __init__(
        self,
        schema: BaseSchema,
        services: Services,
        *,
        max_page_size: int = 100,
        max_query_bytes: int = 32_768,
        graphiql_html: str | None = None,
        responses: Responses | None = None,
        subscribers: Subscribers | None = None,
        connections: Connections | None = None,
        subscriptions_per_connection: int = 20,
        allowed_origins: tuple[str, ...] = (),
    ) -> None:
        live = subscribers is not None and connections is not None
        super().__init__(
            schema,
            graphql_ide="graphiql" if graphiql_html else None,
            subscription_protocols=(
                (GRAPHQL_TRANSPORT_WS_PROTOCOL, GRAPHQL_SSE_PROTOCOL) if live else ()
            ),
            connection_init_wait_timeout=timedelta(seconds=10),
            max_subscriptions_per_connection=subscriptions_per_connection,
            # A page on another origin may open a socket only where CORS lets it call us.
            allowed_origins=allowed_origins,
        )
        self.subscribers = subscribers
        self.connections = connections
        self.services = services
        self.max_page_size = max_page_size
        self.max_query_bytes = max_query_bytes
        self.graphiql_html = graphiql_html
        # The response cache and the HTTP caching headers (graph.response_cache).
        self.responses = responses or Responses(negotiate)

    graphql_transport_ws_handler_class = LiveSocketHandler
    websocket_adapter_class = TextSocket

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "websocket":
            socket = WebSocket(scope, receive, send)
            if self.connections is None:
                await socket.close(code=1008, reason="Subscriptions are off here.")
                return
            await self.run(socket)
            return
        if scope["type"] != "http":
            raise ValueError(f"unsupported scope type {scope['type']!r}")
        request = Request(scope, receive)
        response = await self.responses.answer(request, self._answer)
        await response(scope, receive, send)

    async def _answer(self, request: Request) -> Response:
        try:
            if self._anonymous_stream(request):
                # Every subscription needs credentials: refused before anything streams, as
                # a WebSocket without them is at connection_init.
                raise HTTPException(401, UNAUTHENTICATED_MESSAGE)
            return await self.run(request)
        except HTTPException as exc:
            return self._error_response(request, exc)

    async def get_context(self, request: Any, response: Any) -> Context:
        state = request.scope.get("state") or {}
        return Context(
            services=self.services,
            principal=state.get("principal"),
            correlation_id=state.get("correlation_id") or uuid.uuid4().hex,
            max_page_size=self.max_page_size,
            request=request,
            response=response,
            live=self.subscribers,
            connections=self.connections,
        )

    async def on_ws_connect(self, context: Context) -> None:
        scope = context.request.scope
        ip = (scope.get("state") or {}).get("client_ip") or (scope.get("client") or ("?",))[0]
        await accept(context, ip)

    async def create_streaming_response(
        self,
        request: Any,
        stream: Callable[[], AsyncIterator[str]],
        sub_response: Response,
        headers: Mapping[str, str],
    ) -> Response:
        # An SSE subscription: registered as a connection while it streams (revocation).
        state = request.scope.get("state") or {}
        guarded = sse_stream(stream, self.connections, state.get("principal"))
        return await super().create_streaming_response(request, guarded, sub_response, headers)

    async def get_sub_response(self, request: Any) -> Response:
        sub_response = await super().get_sub_response(request)
        sub_response.media_type = negotiate(request.headers.get("accept", ""))
        return sub_response

    async def execute_single(  # type: ignore[override]
        self, *, request: Request, sub_response: Response, **kwargs: Any
    ) -> ExecutionResult:
        result = await execute_once(self.schema, kwargs["request_adapter"].method, kwargs)
        if sub_response.status_code is None and is_request_error(result):
            code = code_of(result.errors[0]) if result.errors else None
            if code in REFUSAL_STATUS:
                sub_response.status_code = REFUSAL_STATUS[code]
                if code == "UNAUTHENTICATED":  # RFC 9110: a 401 names how to authenticate
                    sub_response.headers["www-authenticate"] = 'Bearer realm="visapi"'
            elif sub_response.media_type == GRAPHQL_RESPONSE:
                sub_response.status_code = 500 if code == "INTERNAL" else 400
            # application/json: 200 for any well-formed request (the spec's legacy rules)
        return result

    def is_request_allowed(self, request: Any) -> bool:
        return request.method in ("GET", "POST")

    def should_render_graphql_ide(self, request: Any) -> bool:
        # Only a browser asking for a page: */* alone (curl, fetch) gets JSON.
        return (
            self.graphiql_html is not None
            and request.method == "GET"
            and "query" not in request.query_params
            and not document_refs.names_document(request.query_params)
            and "text/html" in request.headers.get("accept", "")
        )

    async def render_graphql_ide(self, request: Request) -> Response:
        return HTMLResponse(self.graphiql_html)

    def decode_json(self, data: str | bytes) -> object:
        return orjson.loads(data)  # orjson.JSONDecodeError is a json.JSONDecodeError

    def encode_json(self, data: object) -> bytes:
        return orjson.dumps(data, default=default)

    async def parse_http_body(self, request: AsyncHTTPRequestAdapter) -> GraphQLRequestData:
        if request.method == "GET":
            data: object = self.parse_query_params(request.query_params)
        else:
            media, params = parse_content_type(request.content_type or "")
            if media != JSON or params.get("charset", "utf-8").lower() != "utf-8":
                raise HTTPException(415, "POST bodies must be application/json (utf-8).")
            data = self.parse_json(await request.get_body())
        if not isinstance(data, dict):
            raise HTTPException(400, "The request body must be a JSON object.")
        transport = self._get_stream_transport_from_headers(request.headers)
        for name, kind, label in (
            ("query", str, "a string"),
            ("operationName", str, "a string"),
            ("variables", dict, "an object"),
            ("extensions", dict, "an object"),
        ):
            if data.get(name) is not None and not isinstance(data[name], kind):
                raise HTTPException(400, f"`{name}` must be {label} or null.")
        query = data.get("query")
        if query is not None and too_long(query, self.max_query_bytes):
            # Before parsing: the parsed form of a document is many times its text, and
            # parsing runs before authentication. 413 like an oversized body (RFC 9110 15.5.14:
            # content larger than the server will process), so clients do not retry it as is.
            raise HTTPException(
                413, f"The query is longer than {self.max_query_bytes} bytes (the server's limit)."
            )
        return GraphQLRequestData(
            query=query,
            variables=data.get("variables"),
            operation_name=data.get("operationName"),
            extensions=document_refs.with_document_id(data, data.get("extensions")),
            protocol=transport.protocol if transport is not None else "http",
        )

    async def process_result(
        self, request: Request, result: ExecutionResult
    ) -> GraphQLHTTPResponse:
        response: GraphQLHTTPResponse = {"data": result.data}
        if result.extensions:
            response["extensions"] = result.extensions
        if not result.errors:
            return response
        response["errors"] = [coded(error.formatted) for error in result.errors]
        if (
            is_request_error(result)
            and negotiate(request.headers.get("accept", "")) == GRAPHQL_RESPONSE
        ):
            del response["data"]  # the new media type's mark of a request error
        return response

    def create_response(
        self,
        response_data: GraphQLHTTPResponse | list[GraphQLHTTPResponse],
        sub_response: Response,
    ) -> Response:
        media = sub_response.media_type or JSON
        status = sub_response.status_code or 200
        response = Response(self.encode_json(response_data), status_code=status)
        response.headers.raw.extend(
            (k, v) for k, v in sub_response.headers.raw if k != b"content-type"
        )
        response.headers["content-type"] = content_type(media)
        if sub_response.background:
            response.background = sub_response.background
        return response

    def _anonymous_stream(self, request: Request) -> bool:
        anonymous = not (request.scope.get("state") or {}).get("principal")
        streams = self._get_stream_transport_from_headers(request.headers) is not None
        return self.connections is not None and anonymous and streams

    def _error_response(self, request: Request, exc: HTTPException) -> Response:
        status, headers = exc.status_code, {}
        if status == 401:  # RFC 9110: a 401 names how to authenticate
            headers["www-authenticate"] = 'Bearer realm="visapi"'
        if status == 405:
            headers["allow"] = "GET, POST"
        if request.method == "GET" and isinstance(exc.__cause__, InvalidOperationTypeError):
            # A mutation over GET: the spec's answer is 405, allowing only POST.
            status, headers = 405, {"allow": "POST"}
        code = HTTP_CODES.get(status, "INVALID_INPUT" if status < 500 else "INTERNAL")
        body = {"errors": [{"message": exc.reason, "extensions": {"code": code}}]}
        headers["content-type"] = content_type(negotiate(request.headers.get("accept", "")))
        return Response(self.encode_json(body), status_code=status, headers=headers)
