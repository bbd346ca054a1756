"""The cost of a request: how many field values its answer may hold, refused past a limit.

Depth, aliases and tokens bound a document's shape, not its answer: `orders(first: 100)` with
each order's events and notifications is a small document and ~23,000 values, and thirty
aliases of it are within every other limit. The cost counts every selected field once, times the
size of each list above it: a page holds `first` items (or `last`, or `limit`; the default page
when absent, at most VISAPI_MAX_PAGE_SIZE, which the resolvers enforce anyway), a list without a
size argument (an order's events) is assumed to hold ASSUMED_LIST_SIZE, and nested lists
multiply. Fields are merged by response name and each fragment counted once per selection, as
graphql-core executes them; all members of a union are counted (an upper bound).
Introspection (`__schema`, `__type`) costs nothing: its answer is bounded by the schema.

Sizes given as variables are known only per request, so the walk over the document runs once
per document and operation and leaves a plan: the fixed part summed, and one term per list
whose size comes from a variable. A request evaluates the few terms, before any resolver runs.
"""

from __future__ import annotations

import threading
import weakref
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLField,
    GraphQLInterfaceType,
    GraphQLList,
    GraphQLNamedType,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLSchema,
    InlineFragmentNode,
    IntValueNode,
    SelectionSetNode,
    VariableNode,
    get_named_type,
    get_operation_ast,
    is_leaf_type,
)

from graph.errors import CodedError
from graph.pagination import DEFAULT_PAGE_SIZE

SIZE_ARGUMENTS = ("first", "last", "limit")
PAGE_ARGUMENTS = ("first", "last")  # bounded by the maximum page size
ASSUMED_LIST_SIZE = 10
FREE = frozenset({"__schema", "__type"})


@dataclass(frozen=True, slots=True)
class Size:
    """How many items a list holds: known when planned (`fixed`), or a variable's value."""

    fixed: int
    variable: str | None = None
    absent: int = 0  # the variable not given: its own default, else the argument's
    null: int = 0  # given as null: the argument's default (the resolvers' rule)
    cap: int | None = None

    def of(self, variables: Mapping[str, Any]) -> int:
        if self.variable is None:
            return self.fixed
        value = variables.get(self.variable, _ABSENT)
        if value is _ABSENT:
            value = self.absent
        elif value is None:
            value = self.null
        elif type(value) is not int:
            value = self.absent  # graphql-core refuses the variable itself, naming it
        value = max(0, value)
        return value if self.cap is None else min(value, self.cap)


_ABSENT = object()
ONE = Size(1)


@dataclass(frozen=True, slots=True)
class Plan:
    """Cost = fixed + the sum of size x child over terms (the lists sized by variables)."""

    fixed: int
    terms: tuple[tuple[Size, Plan], ...] = ()

    def cost(self, variables: Mapping[str, Any]) -> int:
        total = self.fixed
        for size, child in self.terms:
            total += size.of(variables) * child.cost(variables)
        return total


class Planner:
    """Walks one operation of a validated document into its Plan."""

    def __init__(self, schema: GraphQLSchema, document: DocumentNode, max_page_size: int) -> None:
        self.schema = schema
        self.max_page_size = max_page_size
        self.fragments = {
            d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
        }
        self.defaults: dict[str, int] = {}  # variables' own default values, when integers

    def plan(self, document: DocumentNode, operation_name: str | None) -> Plan | None:
        operation = get_operation_ast(document, operation_name)
        if operation is None:
            return None  # graphql-core answers the missing or ambiguous operation itself
        root = self.schema.get_root_type(operation.operation)
        if root is None:
            return None
        for definition in operation.variable_definitions or ():
            if isinstance(definition.default_value, IntValueNode):
                self.defaults[definition.variable.name.value] = int(definition.default_value.value)
        return self._selections([(operation.selection_set, root)], None)

    def _selections(
        self, sets: list[tuple[SelectionSetNode, GraphQLNamedType]], page: Size | None
    ) -> Plan:
        fixed = 0
        terms: list[tuple[Size, Plan]] = []
        for nodes in self._collect(sets).values():
            node, parent = nodes[0]
            name = node.name.value
            if name.startswith("__"):
                fixed += 0 if name in FREE else 1
                continue
            field = _field(parent, name)
            if field is None:
                continue  # not in the schema: validation refused the document already
            fixed += 1
            named = get_named_type(field.type)
            subsets = [(n.selection_set, named) for n, _ in nodes if n.selection_set is not None]
            if is_leaf_type(named) or not subsets:
                continue  # a leaf, or a list of leaves: one value
            own = self._size(node, field)
            if _is_list(field.type):
                count = own or page or Size(ASSUMED_LIST_SIZE)
                child = self._selections(subsets, None)
            else:
                count, child = ONE, self._selections(subsets, own)
            if count.variable is None and not child.terms:
                fixed += count.fixed * child.fixed
            elif count.variable is None and count.fixed == 1:
                fixed += child.fixed
                terms.extend(child.terms)
            else:
                terms.append((count, child))
        return Plan(fixed, tuple(terms))

    def _collect(
        self, sets: list[tuple[SelectionSetNode, GraphQLNamedType]]
    ) -> dict[str, list[tuple[FieldNode, GraphQLNamedType]]]:
        """Fields by response name, fragments expanded once each (graphql-core's collect)."""
        fields: dict[str, list[tuple[FieldNode, GraphQLNamedType]]] = {}
        visited: set[str] = set()
        pending = list(reversed(sets))
        while pending:
            selection_set, parent = pending.pop()
            found: list[tuple[SelectionSetNode, GraphQLNamedType]] = []
            for selection in selection_set.selections:
                if isinstance(selection, FieldNode):
                    key = (selection.alias or selection.name).value
                    fields.setdefault(key, []).append((selection, parent))
                elif isinstance(selection, InlineFragmentNode):
                    found.append((selection.selection_set, self._type(selection, parent)))
                elif isinstance(selection, FragmentSpreadNode):
                    fragment = self.fragments.get(selection.name.value)
                    if fragment is not None and fragment.name.value not in visited:
                        visited.add(fragment.name.value)
                        found.append((fragment.selection_set, self._type(fragment, parent)))
            pending.extend(reversed(found))
        return fields

    def _type(
        self, fragment: InlineFragmentNode | FragmentDefinitionNode, parent: GraphQLNamedType
    ) -> GraphQLNamedType:
        condition = fragment.type_condition
        named = self.schema.get_type(condition.name.value) if condition is not None else None
        return named or parent

    def _size(self, node: FieldNode, field: GraphQLField) -> Size | None:
        """The list size this field's arguments set, or None when it takes none."""
        name = next((a for a in SIZE_ARGUMENTS if a in field.args), None)
        if name is None:
            return None
        declared = field.args[name].default_value
        default = declared if type(declared) is int else DEFAULT_PAGE_SIZE
        cap = self.max_page_size if name in PAGE_ARGUMENTS else None
        default = default if cap is None else min(default, cap)
        value = next((a.value for a in node.arguments or () if a.name.value == name), None)
        if isinstance(value, VariableNode):
            variable = value.name.value
            absent = self.defaults.get(variable, default)
            return Size(0, variable, absent, default, cap)
        given = int(value.value) if isinstance(value, IntValueNode) else default
        given = max(0, given)
        return Size(given if cap is None else min(given, cap))


def _field(parent: GraphQLNamedType, name: str) -> GraphQLField | None:
    if isinstance(parent, GraphQLObjectType | GraphQLInterfaceType):
        field: GraphQLField | None = parent.fields.get(name)
        return field
    return None


def _is_list(kind: Any) -> bool:
    if isinstance(kind, GraphQLNonNull):
        kind = kind.of_type
    return isinstance(kind, GraphQLList)


class Costs:
    """The plans of one schema's documents, by operation, as long as each document lives.

    Keyed by the document's identity (its hash would walk the whole tree): a cached document
    (graph.documents) keeps its plans until the cache evicts it; a document parsed for one
    request takes its plans with it.
    """

    def __init__(self, *, max_page_size: int) -> None:
        self.max_page_size = max_page_size
        self._plans: dict[int, dict[str | None, Plan | None]] = {}
        self._lock = threading.Lock()

    def plan(
        self, schema: GraphQLSchema, document: DocumentNode, operation_name: str | None
    ) -> Plan | None:
        plans = self._plans.get(id(document))
        if plans is not None and operation_name in plans:
            return plans[operation_name]
        plan = Planner(schema, document, self.max_page_size).plan(document, operation_name)
        with self._lock:
            if id(document) not in self._plans:
                self._plans[id(document)] = {}
                weakref.finalize(document, self._plans.pop, id(document), None)
            self._plans[id(document)][operation_name] = plan
        return plan

    def __len__(self) -> int:
        return len(self._plans)


class CostLimit:
    """INVALID_INPUT naming the cost and the limit, before execution, for a costly request
    (run by graph.checks.ExecutionChecks)."""

    def __init__(self, *, costs: Costs, max_cost: int) -> None:
        self.costs = costs
        self.max_cost = max_cost

    def check(self, ctx: Any) -> None:
        document = ctx.graphql_document
        if document is not None:
            plan = self.costs.plan(ctx.schema._schema, document, ctx.operation_name)
            cost = plan.cost(ctx.variables or {}) if plan is not None else 0
            if cost > self.max_cost:
                raise CodedError(
                    f"The query costs {cost}, above the limit of {self.max_cost}: it may answer"
                    " that many fields (each counted once per item of every list above it:"
                    " `first`, or the default page). Ask for smaller pages or fewer fields.",
                    "INVALID_INPUT",
                    cost=cost,
                    maxCost=self.max_cost,
                )
