"""`sandboxMessages`: what the sandbox vendors would have sent (no CRM configured), newest first."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Annotated, Any

import strawberry
from strawberry import UNSET
from strawberry.types import Info

from app.sandbox import SandboxRecord
from domain.auth.permissions import Permission
from graph.context import Context
from graph.errors import invalid_input
from graph.filters import given, page_size
from graph.keys import after_of, cursor
from graph.permissions import Requires, requires
from graph.scalars import JSON
from graph.types import PageInfo

_PHONE = (
    "Only records for this phone (its digits are compared: `+972 50-...` works)."
    " Needs `orders:read`."
)


def phone_of(phone: str | None) -> str | None:
    if not given(phone) or phone is None:
        return None
    digits = re.sub(r"\D", "", phone)
    if not digits:
        raise invalid_input("phone has no digits", "phone")
    return digits


@strawberry.type(description="One vendor call the sandbox recorded instead of making it.")
class SandboxMessage:
    id: strawberry.ID
    vendor: str = strawberry.field(description="The vendor it was meant for, e.g. `cbb`.")
    operation: str = strawberry.field(
        description="`contact.create`, `contact.update` or `message.send`."
    )
    phone: str | None
    payload: JSON | None = strawberry.field(description="What would have been sent.")
    created_at: datetime

    @classmethod
    def from_record(cls, r: SandboxRecord) -> SandboxMessage:
        payload: Any = r.payload
        return cls(
            id=strawberry.ID(str(r.id)),
            vendor=r.vendor,
            operation=r.operation,
            phone=r.phone,
            payload=payload,
            created_at=r.created_at,
        )


@strawberry.type
class SandboxMessageEdge:
    cursor: str
    node: SandboxMessage


@strawberry.type
class SandboxMessageConnection:
    edges: list[SandboxMessageEdge]
    page_info: PageInfo
    phone: strawberry.Private[str | None]

    @strawberry.field
    async def total_count(self, info: Info[Context, None]) -> int:
        return await info.context.sandbox_records.count(self.phone)


async def sandbox_messages(
    info: Info[Context, None],
    first: int | None = UNSET,
    after: str | None = UNSET,
    phone: Annotated[str | None, strawberry.argument(description=_PHONE)] = UNSET,
) -> SandboxMessageConnection:
    size = page_size(first, info.context.max_page_size)
    digits = phone_of(phone)
    if digits is not None:
        # Whether a phone has records says whether that person is a customer: personal data.
        Requires(Permission.ORDERS_READ).check(info)
    page = await info.context.sandbox_records.page(size, after_of(after), digits)
    edges = [
        SandboxMessageEdge(cursor=cursor(r.created_at, r.id), node=SandboxMessage.from_record(r))
        for r in page.items
    ]
    end = edges[-1].cursor if edges else None
    return SandboxMessageConnection(
        edges=edges,
        page_info=PageInfo(has_next_page=page.has_next, end_cursor=end),
        phone=digits,
    )


@strawberry.type
class SandboxQuery:
    sandbox_messages: SandboxMessageConnection = strawberry.field(
        resolver=sandbox_messages,
        description="What the sandbox vendors recorded (CRM not configured), newest first.",
        extensions=requires(Permission.JOBS_READ),
    )
