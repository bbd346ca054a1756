"""GraphQL operation metrics: a schema extension timing each operation under its name."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator

from graphql import DocumentNode, OperationDefinitionNode
from strawberry.extensions import SchemaExtension
from strawberry.types import ExecutionContext

from app.metrics import ANONYMOUS, INVALID, Metrics

# ANONYMOUS: an operation without a name, or any operation of a caller without credentials
# (the distinct names a process reports are capped: anonymous callers must not use them up).
# INVALID: no parsable document, or an operationName the document does not define (graphql-core
# refuses those, and the name the client sent is not a label we may trust).
_NAME = re.compile(r"[_A-Za-z][_0-9A-Za-z]{0,99}")


MAX_NAME = 100  # characters of a client's operation name in an access line


def operation_label(ctx: ExecutionContext) -> tuple[str, str]:
    """(name, type) of the operation that ran: a name defined in the document or "anonymous"."""
    document = ctx.graphql_document
    if document is None:
        return INVALID, INVALID
    operation = _selected(document, ctx.operation_name)
    if operation is None:
        return INVALID, INVALID
    kind = operation.operation.value  # query, mutation, subscription
    if operation.name is None:
        return ANONYMOUS, kind
    name = operation.name.value
    return (name if _NAME.fullmatch(name) else INVALID), kind


def _selected(document: DocumentNode, name: str | None) -> OperationDefinitionNode | None:
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    if name is None:
        return operations[0] if len(operations) == 1 else None
    return next((o for o in operations if o.name is not None and o.name.value == name), None)


class OperationMetrics(SchemaExtension):
    """First in the extension list, so its time includes parsing, validation and the limiters.

    The metrics adapter caps the distinct names a process reports (see MAX_OPERATION_NAMES).
    """

    def __init__(self, *, metrics: Metrics) -> None:
        self.metrics = metrics

    def on_operation(self) -> Iterator[None]:
        started = time.perf_counter()
        raised = True
        try:
            yield
            raised = False
        finally:
            ctx = self.execution_context
            name, kind = operation_label(ctx)
            if getattr(ctx.context, "principal", None) is None and name != INVALID:
                name = ANONYMOUS
            request = getattr(ctx.context, "request", None)
            if request is not None:  # for the access line (rest.http_metrics)
                request.scope.setdefault("state", {})["operation"] = name[:MAX_NAME]
            result = ctx.result
            ok = not (raised or ctx.pre_execution_errors or (result is not None and result.errors))
            self.metrics.graphql_operation(name, kind, ok, time.perf_counter() - started)
