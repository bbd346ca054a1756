"""A document checked against the schema without running it: what `visapi documents push`
asks of every manifest entry before storing any (app.documents.ports.DocumentCheck), and what
graph.persisted does once per process to a registered document before it first runs."""

from __future__ import annotations

from typing import TYPE_CHECKING

from graphql import DocumentNode, GraphQLError, OperationDefinitionNode, parse
from strawberry.schema.schema import validate_document

from app.documents.ports import CheckedDocument
from app.errors import InvalidInput
from graph.documents import count_fragments

if TYPE_CHECKING:
    from graph.schema import Schema

MAX_ERRORS_SHOWN = 3


class SchemaDocumentCheck:
    """Parses under the token limit, counts fragments, validates with the schema's own rules
    (depth and aliases included, and Strawberry's): what the document will pass when it runs."""

    def __init__(self, schema: Schema) -> None:
        self.schema = schema

    def document(self, body: str) -> DocumentNode:
        """The parsed, valid document; InvalidInput naming what is wrong."""
        schema = self.schema
        try:
            document = parse(body, max_tokens=schema.max_tokens)
        except GraphQLError as exc:
            raise InvalidInput(f"does not parse: {exc.message}") from None
        fragments = count_fragments(document)
        if fragments > schema.max_fragments:
            raise InvalidInput(
                f"has {fragments} fragments; at most {schema.max_fragments} are allowed"
            )
        errors = validate_document(schema._schema, document, schema.validation_rules)
        if errors:
            shown = "; ".join(e.message for e in errors[:MAX_ERRORS_SHOWN])
            more = len(errors) - MAX_ERRORS_SHOWN
            tail = f" (and {more} more)" if more > 0 else ""
            raise InvalidInput(f"is not valid: {shown}{tail}")
        return document

    def __call__(self, body: str) -> CheckedDocument:
        document = self.document(body)
        operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
        first = operations[0]  # validation refuses a document without an operation
        named = len(operations) == 1 and first.name is not None
        return CheckedDocument(
            operation_name=first.name.value if named and first.name else None,
            operation_type=first.operation.value,
        )
