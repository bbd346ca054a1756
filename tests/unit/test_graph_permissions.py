"""`requires(...)`, the one permission idiom: a field's permission, and an argument's own when the
argument is given, checked before the resolver and described in the SDL."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

import pytest
import strawberry
from strawberry import UNSET

from domain.auth.permissions import Permission, Principal, PrincipalKind
from graph.execution import LeanExecutionContext
from graph.permissions import requires

asked: list[str | None] = []


async def records(phone: str | None = UNSET) -> list[str]:
    asked.append(phone)
    return ["r1"]


@strawberry.type
class Query:
    records: list[str] = strawberry.field(
        resolver=records,
        description="Records.",
        extensions=requires(Permission.JOBS_READ, phone=Permission.ORDERS_READ),
    )


@dataclass
class Ctx:
    principal: Principal | None


def caller(*held: Permission) -> Ctx:
    return Ctx(Principal(PrincipalKind.API_KEY, uuid.uuid4(), "k", frozenset(held)))


SCHEMA = strawberry.Schema(query=Query, execution_context_class=LeanExecutionContext)


async def run(document: str, ctx: Ctx) -> tuple[Any, list[Any]]:
    result = await SCHEMA.execute(document, context_value=ctx)
    return result.data, [(e.message, e.extensions) for e in result.errors or []]


def test_the_sdl_says_what_the_field_and_the_argument_need() -> None:
    sdl = SCHEMA.as_str()
    assert '"""Records. Needs `jobs:read`."""' in sdl
    assert '"""Needs `orders:read`."""\n    phone: String' in sdl


@pytest.mark.parametrize(
    ("document", "sent"), [("{ records }", UNSET), ("{ records(phone: null) }", None)]
)
async def test_the_argument_omitted_or_null_needs_only_the_fields_permission(
    document: str, sent: object
) -> None:
    asked.clear()
    assert await run(document, caller(Permission.JOBS_READ)) == ({"records": ["r1"]}, [])
    assert asked == [sent]


async def test_the_argument_given_needs_its_own_permission_before_anything_runs() -> None:
    asked.clear()
    data, errors = await run('{ records(phone: "x") }', caller(Permission.JOBS_READ))
    assert data is None
    assert errors == [
        ("Missing permission orders:read.", {"code": "FORBIDDEN", "permission": "orders:read"})
    ]
    assert asked == []  # a caller who may not ask learns nothing from the answer


async def test_the_fields_own_permission_is_checked_first() -> None:
    _, errors = await run('{ records(phone: "x") }', caller(Permission.ORDERS_READ))
    assert errors == [
        ("Missing permission jobs:read.", {"code": "FORBIDDEN", "permission": "jobs:read"})
    ]


async def test_holding_both_answers() -> None:
    asked.clear()
    ctx = caller(Permission.JOBS_READ, Permission.ORDERS_READ)
    assert await run('{ records(phone: "x") }', ctx) == ({"records": ["r1"]}, [])
    assert asked == ["x"]


async def test_anonymous_is_unauthenticated() -> None:
    _, errors = await run("{ records }", Ctx(None))
    assert [e[1] for e in errors] == [{"code": "UNAUTHENTICATED"}]


def test_a_misspelt_argument_stops_the_schema_build() -> None:
    @strawberry.type
    class Typo:
        records: list[str] = strawberry.field(
            resolver=records, extensions=requires(Permission.JOBS_READ, phon=Permission.ADMIN)
        )

    with pytest.raises(TypeError, match="records has no argument phon"):
        strawberry.Schema(query=Typo)
