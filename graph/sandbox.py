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
from graph.arguments import given
from graph.context import Context
from graph.errors import invalid_input
from graph.pagination import AfterCursor, First, PageInfo, after_of, cursor, page_info, page_size
from graph.permissions import requires
from graph.scalars import JSON

_PHONE = "Only records for this phone (its digits are compared: `+972 50-...` works)."


def phone_of(phone: str | None) -> str | None:
    if not given(phone) or phone is None:
        return None
    digits = re.sub(r"\D", "", phone)
    if not digits:
        raise invalid_input("phone has no digits", "phone")
    return digits


@strawberry.type(description="One vendor call the sandbox recorded instead of making it.")
class SandboxMessage:
    id: strawberry.ID = strawberry.field(description="The record's id (a uuid).")
    vendor: str = strawberry.field(description="The vendor it was meant for, e.g. `cbb`.")
    operation: str = strawberry.field(
        description="`contact.create`, `contact.update` or `message.send`."
    )
    phone: str | None = strawberry.field(
        description="The contact's phone, digits only; null when the call had none, or when"
        " refused.",
        extensions=requires(Permission.ORDERS_READ),
    )
    # The contact's name, email and custom fields.
    payload: JSON | None = strawberry.field(
        description="What would have been sent.", extensions=requires(Permission.ORDERS_READ)
    )
    created_at: datetime = strawberry.field(description="When it was recorded (UTC).")

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


@strawberry.type(description="One sandbox record of a page, with its position.")
class SandboxMessageEdge:
    cursor: str = strawberry.field(description="Opaque position: pass it as `after`.")
    node: SandboxMessage = strawberry.field(description="The record.")


@strawberry.type(description="A page of sandbox records, newest first.")
class SandboxMessageConnection:
    edges: list[SandboxMessageEdge] = strawberry.field(
        description="This page's records, newest first."
    )
    page_info: PageInfo = strawberry.field(description="Where this page sits; how to go on.")
    phone: strawberry.Private[str | None]

    async def _total_count(self, info: Info[Context, None]) -> int:
        return await info.context.sandbox_records.count(self.phone)

    total_count: int = strawberry.field(
        resolver=_total_count, description="Records matching `phone` (all when omitted), all pages."
    )


async def sandbox_messages(
    info: Info[Context, None],
    first: First = UNSET,
    after: AfterCursor = UNSET,
    phone: Annotated[str | None, strawberry.argument(description=_PHONE)] = UNSET,
) -> SandboxMessageConnection:
    size = page_size(first, info.context.max_page_size)
    digits = phone_of(phone)
    page = await info.context.sandbox_records.page(size, after_of(after), digits)
    edges = [
        SandboxMessageEdge(cursor=cursor(r.created_at, r.id), node=SandboxMessage.from_record(r))
        for r in page.items
    ]
    return SandboxMessageConnection(
        edges=edges, page_info=page_info(edges, page.has_next, after), phone=digits
    )


@strawberry.type
class SandboxQuery:
    sandbox_messages: SandboxMessageConnection | None = strawberry.field(
        resolver=sandbox_messages,
        description="What the sandbox vendors recorded (CRM not configured), newest first.",
        # Whether a phone has records says whether that person is a customer: personal data.
        extensions=requires(Permission.JOBS_READ, phone=Permission.ORDERS_READ),
    )
