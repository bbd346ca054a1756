"""GraphQL errors with `extensions.code`, and the masking rule for everything unexpected."""

from __future__ import annotations

import logging
import re
from typing import Any

from graphql import GraphQLError
from strawberry.extensions import MaskErrors

from app.errors import AppError
from domain.errors import DomainError

log = logging.getLogger("visapi.graphql")

# graphql-core's variable coercion message, "Variable '$filter' has invalid value at
# .amountGte: ...", names the field at fault: here `filter.amountGte`.
_VARIABLE_AT = re.compile(r"Variable '\$(\w+)' has invalid value(?: at ([^\s:]+))?")


def _request_error(error: GraphQLError) -> GraphQLError:
    """No path: the document or its variables were refused before execution (a scalar's
    coercion error, say). That is the client's input, shown as it is, with the field at fault."""
    extensions: dict[str, Any] = {"code": "INVALID_INPUT", **(error.extensions or {})}
    if "field" not in extensions and (field := _variable_field(error.message)):
        extensions["field"] = field
    return GraphQLError(
        error.message,
        nodes=error.nodes,
        source=error.source,
        positions=error.positions,
        extensions=extensions,
    )


def _variable_field(message: str) -> str | None:
    match = _VARIABLE_AT.match(message)
    if match is None:
        return None
    name, path = match.groups()
    return name + (path or "") if not path or path[0] in ".[" else f"{name}.{path}"


# Codes a client may see as they are; anything else is masked as INTERNAL.
PUBLIC_CODES = frozenset(
    {
        "UNAUTHENTICATED",
        "FORBIDDEN",
        "NOT_FOUND",
        "INVALID_INPUT",
        "RATE_LIMITED",
        "CONFLICT",
        "UNAVAILABLE",
    }
)


class CodedError(GraphQLError):
    """An error raised by a resolver on purpose, carrying its machine code."""

    def __init__(
        self, message: str, code: str, *, field: str | None = None, **details: Any
    ) -> None:
        extensions: dict[str, Any] = {"code": code, **details}
        if field:
            extensions["field"] = field
        super().__init__(message, extensions=extensions)


def invalid_input(message: str, field: str | None = None) -> CodedError:
    return CodedError(message, "INVALID_INPUT", field=field)


def coded(exc: BaseException) -> str | None:
    """The public code of an exception, or None when it must be masked."""
    if isinstance(exc, AppError | DomainError) and exc.code in PUBLIC_CODES:
        return exc.code
    if isinstance(exc, GraphQLError):
        code = (exc.extensions or {}).get("code")
        return code if code in PUBLIC_CODES else None
    return None


def should_mask(error: GraphQLError) -> bool:
    """Mask every error whose cause is not a coded app error; GraphQL's own errors stay."""
    original = error.original_error
    if original is None:
        return False  # parse/validation errors from graphql-core: safe to show
    return coded(original) is None and coded(error) is None


class CodedMaskErrors(MaskErrors):
    """MaskErrors that keeps coded app errors (with `extensions.code`) and masks the rest.

    A masked error is logged with its traceback and answered as INTERNAL with the request's
    correlation id, so a user's report can be matched to the log line.
    """

    def __init__(self) -> None:
        super().__init__(should_mask_error=should_mask, error_message="Unexpected error.")

    def _process_result(self, result: object) -> None:
        # Errors a resolver reported beside its data (Context.add_error), after the others.
        added = getattr(self.execution_context.context, "added_errors", None)
        if added and hasattr(result, "errors"):
            result.errors = [*(result.errors or []), *added]
        # What MaskErrors does, without its runtime-checkable Protocol: `isinstance` against
        # one walks the protocol's members, ~45 µs on every answer, errors or not.
        errors = getattr(result, "errors", None)
        if errors:
            result.errors = self._process_errors(errors)  # type: ignore[attr-defined]

    def _process_errors(self, errors: list[GraphQLError]) -> list[GraphQLError]:
        correlation_id = getattr(self.execution_context.context, "correlation_id", None)
        return [self._one(error, correlation_id) for error in errors]

    def _one(self, error: GraphQLError, correlation_id: str | None) -> GraphQLError:
        original = error.original_error
        if isinstance(original, CodedError):
            return error
        if not error.path:
            return _request_error(error)
        if original is None:
            return error
        code = coded(original)
        if code is not None:
            extensions: dict[str, Any] = {"code": code}
            field = getattr(original, "field", None)
            if field:
                extensions["field"] = field
            return GraphQLError(
                getattr(original, "message", str(original)),
                nodes=error.nodes,
                source=error.source,
                positions=error.positions,
                path=error.path,
                original_error=original,
                extensions=extensions,
            )
        log.error(
            "unexpected error in %s",
            ".".join(str(p) for p in error.path or ()),
            exc_info=(type(original), original, original.__traceback__),
            extra={"correlation_id": correlation_id},
        )
        return GraphQLError(
            self.error_message,
            nodes=error.nodes,
            source=error.source,
            positions=error.positions,
            path=error.path,
            extensions={"code": "INTERNAL", "correlationId": correlation_id},
        )
