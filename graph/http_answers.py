"""What the /graphql view answers besides data: media types, the HTTP status of a refusal, error
codes on every error, and the checks of a request before parsing."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from functools import lru_cache
from typing import Any

from cross_web import HTTPException
from graphql import GraphQLError
from strawberry.exceptions import MissingQueryError
from strawberry.schema.base import BaseSchema
from strawberry.schema.exceptions import CannotGetOperationTypeError, InvalidOperationTypeError
from strawberry.types import ExecutionResult
from strawberry.types.graphql import OperationType

from graph import persisted

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


SUBSCRIPTIONS_STREAM = (
    "Subscriptions stream: open a WebSocket to /graphql (graphql-transport-ws) or POST with"
    " `Accept: text/event-stream` (GraphQL over SSE)."
)


@lru_cache(maxsize=64)
def negotiate(accept: str) -> str:
    """The response media type: graphql-response+json when asked for, else application/json."""
    for part in accept.split(","):
        media, _, params = part.partition(";")
        if media.strip().lower() == GRAPHQL_RESPONSE:
            q = next((p.strip()[2:] for p in params.split(";") if p.strip().startswith("q=")), "1")
            return JSON if q.strip() in ("0", "0.0", "0.00", "0.000") else GRAPHQL_RESPONSE
    return JSON


def default(value: object) -> object:
    # Strawberry serialises scalars itself; this is for a Decimal an extension might report.
    if isinstance(value, Decimal):
        return str(value)
    raise TypeError(f"cannot encode {type(value).__name__} as JSON")


def content_type(media: str) -> str:
    return f"{media}; charset=utf-8"


def too_long(query: str, limit: int) -> bool:
    # A character is 1-4 bytes in UTF-8: encode only when the length alone cannot tell.
    if len(query) > limit:
        return True
    return len(query) * 4 > limit and len(query.encode("utf-8", "surrogatepass")) > limit


def coded(error: Mapping[str, Any]) -> dict[str, Any]:
    """Give every error an `extensions.code`: pathless ones are the client's, the rest ours."""
    extensions = error.get("extensions") or {}
    if "code" in extensions:
        return dict(error)
    code = "INVALID_INPUT" if "path" not in error else "INTERNAL"
    return {**error, "extensions": {**extensions, "code": code}}


def is_request_error(result: ExecutionResult) -> bool:
    """Nothing was executed (parse, validation, variables, an extension refusing): no paths."""
    errors = result.errors or ()
    return bool(errors) and result.data is None and all(e.path is None for e in errors)


def code_of(error: GraphQLError) -> str | None:
    code = (error.extensions or {}).get("code")
    return code if isinstance(code, str) else None


async def execute_once(schema: BaseSchema, method: Any, kwargs: dict[str, Any]) -> ExecutionResult:
    """Strawberry's execute_single, refusing subscriptions: a plain HTTP answer cannot
    carry a stream (they run over WebSocket or SSE, `execute_operation`'s streaming path)."""
    data = kwargs["request_data"]
    allowed = OperationType.from_http(method) - {OperationType.SUBSCRIPTION}
    try:
        return await schema.execute(
            data.query,
            root_value=kwargs["root_value"],
            variable_values=data.variables,
            context_value=kwargs["context"],
            operation_name=data.operation_name,
            allowed_operation_types=allowed,
            operation_extensions=data.extensions,
        )
    except CannotGetOperationTypeError as e:
        raise HTTPException(400, e.as_http_error_reason()) from e
    except InvalidOperationTypeError as e:
        if e.operation_type is OperationType.SUBSCRIPTION:
            raise HTTPException(400, SUBSCRIPTIONS_STREAM) from None
        raise HTTPException(400, e.as_http_error_reason(method)) from e
    except MissingQueryError as e:
        raise HTTPException(400, "No GraphQL query found in the request") from e
