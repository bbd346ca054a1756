"""The schema: Query and Mutation roots with the protective and caching extensions."""

from __future__ import annotations

import logging
from collections.abc import Callable
from functools import partial

import strawberry
from graphql import (
    ASTValidationRule,
    GraphQLError,
    NoSchemaIntrospectionCustomRule,
    specified_rules,
)
from strawberry.extensions import (
    DisableIntrospection,
    MaxAliasesLimiter,
    QueryDepthLimiter,
    SchemaExtension,
)
from strawberry.schema.config import StrawberryConfig
from strawberry.tools import merge_types
from strawberry.types import ExecutionContext
from strawberry.types.base import get_object_definition

from app.documents.ports import DocumentsMode
from app.metrics import NO_METRICS, Metrics
from graph.bulk import BulkMutation, BulkQuery
from graph.cache_control import describe_arguments
from graph.checks import ExecutionChecks
from graph.cost import CostLimit, Costs
from graph.documents import CachedDocuments, Documents
from graph.errors import CodedMaskErrors
from graph.execution import LeanExecutionContext
from graph.introspection import AdminIntrospection
from graph.jobs import JobMutation, JobQuery
from graph.keys import KeyMutation, KeyQuery
from graph.live import Subscription
from graph.logs import LogQuery
from graph.metrics import OperationMetrics
from graph.operations import OperationsMutation, OperationsQuery
from graph.orders import OrderMutation, OrderQuery
from graph.persisted import PersistedDocuments, RegisteredDocuments
from graph.privacy import PrivacyMutation, PrivacyQuery
from graph.repairs import RepairMutation
from graph.sandbox import SandboxQuery
from graph.scalars import SCALAR_MAP
from graph.users import UserMutation, UserQuery
from graph.workflow_runs import WorkflowRunMutation, WorkflowRunQuery
from graph.workflows import WorkflowMutation, WorkflowQuery

# One part per feature, each with its Query and Mutation fields (the order below is the SDL's).
Query = merge_types(
    "Query",
    (
        OrderQuery,
        KeyQuery,
        UserQuery,
        SandboxQuery,
        JobQuery,
        OperationsQuery,
        LogQuery,
        WorkflowQuery,
        WorkflowRunQuery,
        BulkQuery,
        PrivacyQuery,
    ),
)
Mutation = merge_types(
    "Mutation",
    (
        OrderMutation,
        KeyMutation,
        UserMutation,
        RepairMutation,
        JobMutation,
        OperationsMutation,
        WorkflowMutation,
        WorkflowRunMutation,
        BulkMutation,
        PrivacyMutation,
    ),
)
# merge_types takes no description: the roots' are set on their definitions.
get_object_definition(Query, strict=True).description = (
    "Reads. Each field names the permission it needs; one the caller lacks is null with a"
    " FORBIDDEN error at its path, and the others are answered (partial results)."
)
get_object_definition(Mutation, strict=True).description = (
    "Writes, run one after another in the order sent. Each names the permission it needs; one"
    " the caller lacks is null with a FORBIDDEN error at its path, and the others still run."
)

# Bytes of parsed, validated documents a process remembers (an estimate, see graph.documents):
# dashboards send a few dozen documents of ~100 KB each parsed.
DOCUMENT_CACHE_BYTES = 8 * 1024 * 1024
# Registered documents a process keeps parsed and validated (graph.persisted): an app's
# manifest holds tens to hundreds.
REGISTERED_DOCUMENTS = 2_048

log = logging.getLogger("visapi.graphql")


class Schema(strawberry.Schema):
    """Strawberry's schema without its error log: client mistakes (syntax, validation, bad input)
    are not server errors, and unexpected ones are logged once, with the correlation id, by
    CodedMaskErrors."""

    # This schema's registered documents, parsed (graph.persisted), and what a document must
    # pass to run here: the rules and limits `visapi documents push` checks a manifest with.
    registered: RegisteredDocuments
    validation_rules: tuple[type[ASTValidationRule], ...]
    max_tokens: int
    max_fragments: int

    def process_errors(
        self, errors: list[GraphQLError], execution_context: ExecutionContext | None = None
    ) -> None:
        for error in errors:
            log.debug("graphql error: %s", error.message)


def build_schema(
    *,
    max_depth: int = 12,
    max_aliases: int = 30,
    max_tokens: int = 2_000,
    max_fragments: int = 100,
    max_cost: int = 50_000,
    max_page_size: int = 100,
    introspection: bool = True,
    admin_introspection: bool = False,
    metrics: Metrics = NO_METRICS,
    document_cache_bytes: int = DOCUMENT_CACHE_BYTES,
    documents_mode: DocumentsMode = DocumentsMode.ANY,
    registered_documents: int = REGISTERED_DOCUMENTS,
) -> Schema:
    # The limiters' rule classes are built once, with the schema, like the documents they
    # validate: a cached document stays valid only under the same rules.
    rules = [
        *QueryDepthLimiter(max_depth=max_depth).validation_rules,
        *MaxAliasesLimiter(max_alias_count=max_aliases).validation_rules,
    ]
    registered = RegisteredDocuments(registered_documents)
    cost = CostLimit(costs=Costs(max_page_size=max_page_size), max_cost=max_cost)
    # Factories, not instances: strawberry builds each extension per request.
    extensions: list[Callable[[], SchemaExtension]] = [
        partial(OperationMetrics, metrics=metrics),  # first: it times the others too
        partial(
            PersistedDocuments,
            registry=registered,
            mode=documents_mode,
            max_tokens=max_tokens,
            rules=rules,
        ),
        partial(
            CachedDocuments,
            documents=Documents(document_cache_bytes),
            max_fragments=max_fragments,
        ),
        # The authentication gate, then the cost limit: an anonymous caller hears 401 first.
        partial(ExecutionChecks, cost=cost),
        CodedMaskErrors,
    ]
    if not introspection:
        extensions.append(DisableIntrospection)
    elif admin_introspection:  # the production profile
        extensions.append(AdminIntrospection)
    # "Did you mean ...?" would tell what introspection does not.
    suggestions = introspection and not admin_introspection
    built = Schema(
        query=Query,
        mutation=Mutation,
        subscription=Subscription,
        extensions=extensions,
        config=StrawberryConfig(disable_field_suggestions=not suggestions, scalar_map=SCALAR_MAP),
        execution_context_class=LeanExecutionContext,
    )
    describe_arguments(built._schema)
    built.registered = registered
    closed = () if introspection else (NoSchemaIntrospectionCustomRule,)  # DisableIntrospection's
    built.validation_rules = (*specified_rules, *rules, *closed)
    built.max_tokens, built.max_fragments = max_tokens, max_fragments
    return built


# The default schema, for `visapi export-schema` and the SDL drift test.
schema = build_schema()
