"""Personal data in the schema: the one table of the fields that carry it and the permission that
reads them, against which the schema walk checks each field's own `requires(...)`.

DOMAIN.md: personal data of every type (orders, notifications, sandbox records, contact syncs,
dead letters, workflow runs that carry order data) is readable only with `orders:read`, whatever
root field reached it: `resendConfirmation` (orders:write) returns a Notification, `failedJobs`
(jobs:read) dead letters whose arguments and errors carry a customer's fields. A caller lacking it
gets the field null with a FORBIDDEN error; so those fields are nullable, and the rest of the
answer stays intact. The lean executor (graph.execution) checks the same declarations once per
request, so a page of orders pays a dictionary lookup per protected field, not a resolver chain.

The permission is declared on the field, like every other (graph.permissions); this table pins
the decision, as DOMAIN.md's grants pin the root fields, so a declaration cannot be dropped
unnoticed. The schema walk (tests/e2e/test_access_matrix.py) recognises personal fields by name
as well: a field whose name has one of `PERSONAL_WORDS` is either in `PERSONAL` or in
`NOT_PERSONAL` with the reason, so a new one cannot slip in without a decision.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from types import MappingProxyType

from graphql import GraphQLObjectType, GraphQLSchema

from domain.auth.permissions import Permission
from graph.permissions import declared

_ORDERS = Permission.ORDERS_READ

# (GraphQL type, GraphQL field) -> the permission reading it needs.
PERSONAL: Mapping[tuple[str, str], Permission] = MappingProxyType(
    {
        ("Order", "clientName"): _ORDERS,
        ("Order", "clientEmail"): _ORDERS,
        ("Order", "clientPhone"): _ORDERS,
        ("DomainEvent", "payload"): _ORDERS,  # OrderCreated carries the whole order
        ("ContactSync", "lastError"): _ORDERS,  # the CRM's answer may echo the contact
        ("Notification", "phone"): _ORDERS,
        ("Notification", "failureReason"): _ORDERS,  # the vendor's reason may name the number
        ("SandboxMessage", "phone"): _ORDERS,
        ("SandboxMessage", "payload"): _ORDERS,  # the contact's name, email, custom fields
        ("FailedJob", "arguments"): _ORDERS,
        ("FailedJob", "error"): _ORDERS,
        ("WorkflowRun", "context"): _ORDERS,  # the order that triggered the run
        ("WorkflowStepResult", "output"): _ORDERS,  # rendered messages, vendor answers
        ("WorkflowStepResult", "error"): _ORDERS,
        # Staff, not customers: read by whoever manages users (every path to a User needs it
        # already, so the field stays non-null).
        ("User", "email"): Permission.USERS_ADMIN,
    }
)

# Words in a field's name that suggest personal data (camelCase split, lower-cased).
PERSONAL_WORDS = frozenset(
    {
        "address",
        "applicant",
        "applicants",
        "args",
        "arguments",
        "birth",
        "body",
        "context",
        "custom",
        "email",
        "error",
        "fields",
        "metadata",
        "name",
        "output",
        "passport",
        "payload",
        "phone",
    }
)

# Fields whose names match but that carry no customer's data, and why.
NOT_PERSONAL: Mapping[tuple[str, str], str] = MappingProxyType(
    {
        ("ApiKey", "name"): "a label staff give the key",
        ("Me", "name"): "the caller's own key name or email",
        ("Workflow", "name"): "a label staff give the workflow",
        ("WarmedCacheEntry", "name"): "the cached read's name, e.g. `order-stats`",
        ("LogEntry", "metadata"): "redacted when written (logs:read; `piiRedacted` says so)",
        ("ContactSync", "errorCount"): "a count",
        ("ContactSync", "lastErrorCategory"): "a fixed category such as `vendor_error`",
        ("Order", "phoneValid"): "whether the number parsed; the number is clientPhone",
        ("InvalidWorkflow", "errors"): "the caller's own definition's problems, by JSONPath",
    }
)


def words(name: str) -> set[str]:
    return {w.lower() for w in re.findall(r"[a-z]+|[A-Z][a-z]*", name)}


def looks_personal(field_name: str) -> bool:
    return not PERSONAL_WORDS.isdisjoint(words(field_name))


def _object_types(schema: GraphQLSchema) -> Iterator[GraphQLObjectType]:
    for name, kind in schema.type_map.items():
        if isinstance(kind, GraphQLObjectType) and not name.startswith("__"):
            yield kind


def undeclared_personal(schema: GraphQLSchema) -> list[str]:
    """`Type.field` of every field that is in `PERSONAL` without the table's permission on it,
    or looks personal and is in neither table (a permission written at the field is not a
    decision: the table is where personal data is listed)."""
    missing = []
    for kind in _object_types(schema):
        for field_name, field in kind.fields.items():
            key = (kind.name, field_name)
            wanted = PERSONAL.get(key)
            if wanted is not None:
                requirement = declared(field)
                if requirement is None or requirement.permission != wanted:
                    missing.append(f"{kind.name}.{field_name}")
            elif key not in NOT_PERSONAL and looks_personal(field_name):
                missing.append(f"{kind.name}.{field_name}")
    return missing
