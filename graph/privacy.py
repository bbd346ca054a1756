"""A customer's data in GraphQL: exportCustomerData (one JSON document of everything stored about
a person) and eraseCustomerData (a bulk operation replacing their personal data with markers).
Both admin only: the export is every passport detail the agency holds about someone."""

from __future__ import annotations

from typing import Annotated, Any

import strawberry
from strawberry.scalars import JSON
from strawberry.types import Info

from app.bulk.commands import StartBulkOperation
from app.privacy.queries import orders_of, person_of
from domain.auth.permissions import Permission
from domain.orders.bulk import BulkKind
from graph.arguments import given
from graph.bulk import BulkOperation
from graph.context import Context
from graph.permissions import requires

Email = Annotated[
    str | None,
    strawberry.argument(description="The email their orders carry (give this or phone)."),
]
Phone = Annotated[
    str | None,
    strawberry.argument(description="The phone their orders carry, any format (or email)."),
]


def _person(email: str | None, phone: str | None) -> Any:
    return person_of(email if given(email) else None, phone if given(phone) else None)


async def export_customer_data(
    info: Info[Context, None], email: Email = strawberry.UNSET, phone: Phone = strawberry.UNSET
) -> JSON:
    return JSON(await info.context.services.privacy.export(_person(email, phone)))


async def erase_customer_data(
    info: Info[Context, None], email: Email = strawberry.UNSET, phone: Phone = strawberry.UNSET
) -> BulkOperation:
    ctx = info.context
    person = _person(email, phone)
    command = StartBulkOperation(
        kind=BulkKind.ERASE_CUSTOMER,
        spec=orders_of(person),
        # Never the person in the operation's record: it outlives the erasure.
        filter={"erase": "email" if person.email else "phone"},
        actor=ctx.actor,
        correlation_id=ctx.correlation_id,
    )
    return BulkOperation.of(await ctx.bus.handle(command))


@strawberry.type
class PrivacyQuery:
    export_customer_data: JSON | None = strawberry.field(
        resolver=export_customer_data,
        description="Everything stored about a person, as one JSON document: `subject`, then"
        " `orders`, `archivedBodies`, `notifications`, `contactSyncs`, `sandboxRecords`,"
        " `deliveryEvents` and `logs`, each a list of rows.",
        extensions=requires(Permission.ADMIN),
    )


@strawberry.type
class PrivacyMutation:
    erase_customer_data: BulkOperation | None = strawberry.mutation(
        resolver=erase_customer_data,
        description="Replace a person's personal data everywhere with redaction markers (ids,"
        " amounts and dates kept for the accounts) and stop the messages not sent yet to them:"
        " a bulk operation over their orders, audited in the logs.",
        extensions=requires(Permission.ADMIN),
    )
