"""The /graphql view: Strawberry's ASGI view speaking GraphQL over HTTP, encoded with orjson."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from decimal import Decimal
from functools import lru_cache
from typing import Any

import orjson
from cross_web import AsyncHTTPRequestAdapter, HTTPException
from graphql import GraphQLError
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.types import Receive, Scope, Send
from strawberry.asgi import GraphQL
from strawberry.http import GraphQLHTTPResponse, GraphQLRequestData
from strawberry.http.parse_content_type import parse_content_type
from strawberry.schema.base import BaseSchema
from strawberry.schema.exceptions import InvalidOperationTypeError
from strawberry.types import ExecutionResult

from app.services import Services
from graph import document_refs, persisted
from graph.context import Context
from graph.response_cache import Responses

JSON = "application/json"
GRAPHQL_RESPONSE = "application/graphql-response+json"
# Codes of errors answered before or instead of GraphQL execution, by HTTP status.
HTTP_CODES = {
    400: "INVALID_INPUT",
    401: "UNAUTHENTICATED",
    403: "FORBIDDEN",
    404: "NOT_FOUND",
    405: "METHOD_NOT_ALLOWED",
    413: "PAYLOAD_TOO_LARGE",
    415: "UNSUPPORTED_MEDIA_TYPE",
    429: "RATE_LIMITED",
}
# The status of a request error (nothing executed) by its code, in either media type: an
# extension refusing the whole operation (credentials, rate limit) picks the HTTP answer.
REFUSAL_STATUS = {
    "UNAUTHENTICATED": 401,
    "FORBIDDEN": 403,
    "RATE_LIMITED": 429,
    "UNAVAILABLE": 503,
    **persisted.STATUS,
}


@lru_cache(maxsize=64)
def negotiate(accept: str) -> str:
    """The response media type: graphql-response+json when asked for, else application/json."""
    for part in accept.split(","):
        media, _, params = part.partition(";")
        if media.strip().lower() == GRAPHQL_RESPONSE:
            q = next((p.strip()[2:] for p in params.split(";") if p.strip().startswith("q=")), "1")
            return JSON if q.strip() in ("0", "0.0", "0.00", "0.000") else GRAPHQL_RESPONSE
    return JSON


def _default(value: object) -> object:
    # Strawberry serialises scalars itself; this is for a Decimal an extension might report.
    if isinstance(value, Decimal):
        return str(value)
    raise TypeError(f"cannot encode {type(value).__name__} as JSON")


def _content_type(media: str) -> str:
    return f"{media}; charset=utf-8"


class GraphQLView(GraphQL[Context, None]):
    """GET (queries only) and POST with JSON bodies; GraphiQL for browsers when enabled.

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
    ) -> None:
        super().__init__(
            schema, graphql_ide="graphiql" if graphiql_html else None, subscription_protocols=()
        )
        self.services = services
        self.max_page_size = max_page_size
        self.max_query_bytes = max_query_bytes
        self.graphiql_html = graphiql_html
        # The response cache and the HTTP caching headers (graph.response_cache).
        self.responses = responses or Responses(negotiate)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":  # Starlette routes only send HTTP here
            raise ValueError(f"unsupported scope type {scope['type']!r}")
        request = Request(scope, receive)
        response = await self.responses.answer(request, self._answer)
        await response(scope, receive, send)

    async def _answer(self, request: Request) -> Response:
        try:
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
        )

    async def get_sub_response(self, request: Any) -> Response:
        sub_response = await super().get_sub_response(request)
        sub_response.media_type = negotiate(request.headers.get("accept", ""))
        return sub_response

    async def execute_single(  # type: ignore[override]
        self, *, request: Request, sub_response: Response, **kwargs: Any
    ) -> ExecutionResult:
        result = await super().execute_single(request=request, sub_response=sub_response, **kwargs)
        if sub_response.status_code is None and _is_request_error(result):
            code = _code(result.errors[0]) if result.errors else None
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
        return orjson.dumps(data, default=_default)

    async def parse_http_body(self, request: AsyncHTTPRequestAdapter) -> GraphQLRequestData:
        if request.method == "GET":
            data: object = self.parse_query_params(request.query_params)
        else:
            content_type, params = parse_content_type(request.content_type or "")
            if content_type != JSON or params.get("charset", "utf-8").lower() != "utf-8":
                raise HTTPException(415, "POST bodies must be application/json (utf-8).")
            data = self.parse_json(await request.get_body())
        if not isinstance(data, dict):
            raise HTTPException(400, "The request body must be a JSON object.")
        for name, kind, label in (
            ("query", str, "a string"),
            ("operationName", str, "a string"),
            ("variables", dict, "an object"),
            ("extensions", dict, "an object"),
        ):
            if data.get(name) is not None and not isinstance(data[name], kind):
                raise HTTPException(400, f"`{name}` must be {label} or null.")
        query = data.get("query")
        if query is not None and _too_long(query, self.max_query_bytes):
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
        )

    async def process_result(
        self, request: Request, result: ExecutionResult
    ) -> GraphQLHTTPResponse:
        response: GraphQLHTTPResponse = {"data": result.data}
        if result.extensions:
            response["extensions"] = result.extensions
        if not result.errors:
            return response
        response["errors"] = [_coded(error.formatted) for error in result.errors]
        if (
            _is_request_error(result)
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
        response.headers["content-type"] = _content_type(media)
        if sub_response.background:
            response.background = sub_response.background
        return response

    def _error_response(self, request: Request, exc: HTTPException) -> Response:
        status, headers = exc.status_code, {}
        if status == 405:
            headers["allow"] = "GET, POST"
        if request.method == "GET" and isinstance(exc.__cause__, InvalidOperationTypeError):
            # A mutation over GET: the spec's answer is 405, allowing only POST.
            status, headers = 405, {"allow": "POST"}
        code = HTTP_CODES.get(status, "INVALID_INPUT" if status < 500 else "INTERNAL")
        body = {"errors": [{"message": exc.reason, "extensions": {"code": code}}]}
        headers["content-type"] = _content_type(negotiate(request.headers.get("accept", "")))
        return Response(self.encode_json(body), status_code=status, headers=headers)


def _too_long(query: str, limit: int) -> bool:
    # A character is 1-4 bytes in UTF-8: encode only when the length alone cannot tell.
    if len(query) > limit:
        return True
    return len(query) * 4 > limit and len(query.encode("utf-8", "surrogatepass")) > limit


def _coded(error: Mapping[str, Any]) -> dict[str, Any]:
    """Give every error an `extensions.code`: pathless ones are the client's, the rest ours."""
    extensions = error.get("extensions") or {}
    if "code" in extensions:
        return dict(error)
    code = "INVALID_INPUT" if "path" not in error else "INTERNAL"
    return {**error, "extensions": {**extensions, "code": code}}


def _is_request_error(result: ExecutionResult) -> bool:
    """Nothing was executed (parse, validation, variables, an extension refusing): no paths."""
    errors = result.errors or ()
    return bool(errors) and result.data is None and all(e.path is None for e in errors)


def _code(error: GraphQLError) -> str | None:
    code = (error.extensions or {}).get("code")
    return code if isinstance(code, str) else None
