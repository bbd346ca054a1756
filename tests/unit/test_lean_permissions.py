"""The lean executor honours field permissions: a caller holding it reads a protected leaf on the
fast path; one lacking it gets the field null with the FORBIDDEN error `Requires` gives."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

import pytest
import strawberry
from strawberry.schema.config import StrawberryConfig

from domain.auth.permissions import Permission, Principal, PrincipalKind
from graph.execution import LeanExecutionContext
from graph.permissions import requires
from graph.scalars import SCALAR_MAP


@strawberry.type
class Customer:
    ref: str
    phone: str | None = strawberry.field(extensions=requires(Permission.ORDERS_READ))


@strawberry.type
class Query:
    @strawberry.field
    def customers(self) -> list[Customer]:
        return [Customer(ref=f"c{i}", phone=f"97250000000{i}") for i in range(3)]


@dataclass
class Ctx:
    principal: Principal | None


def caller(*held: Permission) -> Ctx:
    return Ctx(Principal(PrincipalKind.API_KEY, uuid.uuid4(), "k", frozenset(held)))


class Counting(LeanExecutionContext):
    calls: list[str] = []

    def execute_field(self, parent_type: Any, source: Any, fields: Any, *args: Any) -> Any:
        Counting.calls.append(fields[0].node.name.value)
        return super().execute_field(parent_type, source, fields, *args)


def _schema(context_class: Any = None) -> strawberry.Schema:
    kwargs = {"execution_context_class": context_class} if context_class else {}
    return strawberry.Schema(query=Query, config=StrawberryConfig(scalar_map=SCALAR_MAP), **kwargs)


QUERY = "{ customers { ref phone } }"


@pytest.mark.parametrize(
    "ctx", [caller(Permission.ORDERS_READ), caller(Permission.ADMIN), caller(Permission.JOBS_READ)]
)
async def test_the_same_answer_as_graphql_core(ctx: Ctx) -> None:
    plain = await _schema().execute(QUERY, context_value=ctx)
    lean = await _schema(LeanExecutionContext).execute(QUERY, context_value=ctx)
    assert lean.data == plain.data
    assert [e.formatted for e in lean.errors or []] == [e.formatted for e in plain.errors or []]


async def test_a_holder_reads_protected_leaves_on_the_fast_path() -> None:
    Counting.calls = []
    result = await _schema(Counting).execute(QUERY, context_value=caller(Permission.ORDERS_READ))
    assert result.errors is None
    assert result.data == {
        "customers": [{"ref": f"c{i}", "phone": f"97250000000{i}"} for i in range(3)]
    }
    assert Counting.calls == ["customers"]  # each customer in one loop, no resolver chain


async def test_a_caller_without_the_permission_gets_null_and_forbidden() -> None:
    result = await _schema(Counting).execute(QUERY, context_value=caller(Permission.JOBS_READ))
    assert result.data == {"customers": [{"ref": f"c{i}", "phone": None} for i in range(3)]}
    assert [(e.path, e.extensions) for e in result.errors or []] == [
        (["customers", i, "phone"], {"code": "FORBIDDEN", "permission": "orders:read"})
        for i in range(3)
    ]


@strawberry.type
class Roots:
    """Nullable root fields a permission can deny, as in graph.schema: a resolver's list, and a
    plain leaf (the lean executor's own candidate)."""

    motto: str | None = strawberry.field(extensions=requires(Permission.LOGS_READ))

    @strawberry.field(extensions=requires(Permission.ORDERS_READ))
    def customers(self) -> list[Customer] | None:
        return [Customer(ref="c0", phone="972500000000")]

    @strawberry.field(extensions=requires(Permission.JOBS_READ))
    def depth(self) -> int | None:
        return 7


ROOTS = "{ motto customers { ref phone } depth }"


@pytest.mark.parametrize(
    "held",
    [
        (Permission.ADMIN,),
        (Permission.JOBS_READ,),
        (Permission.ORDERS_READ, Permission.LOGS_READ),
        (Permission.USERS_ADMIN,),
    ],
)
async def test_refused_nullable_roots_are_the_same_partial_answer(held: tuple[Permission]) -> None:
    def run(context_class: Any) -> Any:
        kwargs = {"execution_context_class": context_class} if context_class else {}
        schema = strawberry.Schema(
            query=Roots, config=StrawberryConfig(scalar_map=SCALAR_MAP), **kwargs
        )
        return schema.execute(ROOTS, root_value=Roots(motto="ship it"), context_value=caller(*held))

    plain, lean = await run(None), await run(LeanExecutionContext)
    assert lean.data == plain.data
    assert [e.formatted for e in lean.errors or []] == [e.formatted for e in plain.errors or []]
    allowed = {
        "motto": "ship it" if Permission.LOGS_READ in held or Permission.ADMIN in held else None,
        "customers": [{"ref": "c0", "phone": "972500000000"}]
        if Permission.ORDERS_READ in held or Permission.ADMIN in held
        else None,
        "depth": 7 if Permission.JOBS_READ in held or Permission.ADMIN in held else None,
    }
    assert lean.data == allowed  # never null as a whole: each refused root is null on its own
    assert sorted(e.path[0] for e in lean.errors or []) == sorted(
        name for name, value in allowed.items() if value is None
    )
