"""People and callers in GraphQL: me, users and setUserRole."""

from __future__ import annotations

from datetime import datetime
from enum import Enum
from typing import Annotated

import strawberry
from strawberry import UNSET
from strawberry.types import Info

from app.auth.commands import SetUserRole
from app.auth.ports import UserView
from domain.auth.permissions import Permission, expand
from graph.arguments import parse_id, value_of
from graph.context import Context
from graph.keys import held_by
from graph.pagination import AfterCursor, First, PageInfo, after_of, cursor, page_info, page_size
from graph.permissions import AUTHENTICATED, requires


@strawberry.enum(
    description="A person's role: a fixed set of permissions (`me.permissions` spells them out)."
)
class Role(Enum):
    VIEWER = strawberry.enum_value(
        "viewer",
        description="`orders:read`, `jobs:read`, `logs:read`, `workflows:read`; every new"
        " person starts here.",
    )
    OPERATOR = strawberry.enum_value(
        "operator",
        description="A viewer's, with `orders:write`, `jobs:write`, `workflows:write` and"
        " `workflows:run`.",
    )
    ADMIN = strawberry.enum_value(
        "admin", description="`admin`: every permission, keys, people and the cache included."
    )


@strawberry.enum(description="How the caller authenticated.")
class CallerKind(Enum):
    API_KEY = strawberry.enum_value(
        "api_key", description="With an API key (X-API-Key or a bearer key)."
    )
    USER = strawberry.enum_value(
        "user", description="As a person, with a bearer token of the identity provider."
    )


@strawberry.type(description="A person, created on their first valid token with role VIEWER.")
class User:
    id: strawberry.ID = strawberry.field(description="The person's id here (a uuid).")
    # Staff, not customers: read by whoever manages users. Every path to a User needs that
    # already, so the field stays non-null.
    email: str = strawberry.field(
        description="Their email, from the token's `email` claim.",
        extensions=requires(Permission.USERS_ADMIN),
    )
    role: Role = strawberry.field(description="What they may do; setUserRole changes it.")
    created_at: datetime = strawberry.field(
        description="When their first valid token created them (UTC)."
    )

    @classmethod
    def from_view(cls, v: UserView) -> User:
        return cls(
            id=strawberry.ID(str(v.id)),
            email=v.email,
            role=Role(v.role.value),
            created_at=v.created_at,
        )


@strawberry.type(description="Who is calling, and what they may do.")
class Me:
    kind: CallerKind = strawberry.field(description="An API key or a person.")
    id: strawberry.ID = strawberry.field(description="The key's or the user's id.")
    name: str = strawberry.field(description="The key's name or the user's email.")
    role: Role | None = strawberry.field(description="Users only.")
    permissions: list[str] = strawberry.field(description="Every permission held, spelled out.")


@strawberry.type(description="One person of a page, with its position.")
class UserEdge:
    cursor: str = strawberry.field(description="Opaque position: pass it as `after`.")
    node: User = strawberry.field(description="The person.")


@strawberry.type(description="A page of people, newest first.")
class UserConnection:
    edges: list[UserEdge] = strawberry.field(description="This page's people, newest first.")
    page_info: PageInfo = strawberry.field(description="Where this page sits; how to go on.")

    async def _total_count(self, info: Info[Context, None]) -> int:
        return await info.context.access.count_users()

    total_count: int = strawberry.field(
        resolver=_total_count, description="People known, all pages together."
    )


def me(info: Info[Context, None]) -> Me:
    principal = info.context.principal
    assert principal is not None  # Requires(AUTHENTICATED) ran first
    return Me(
        kind=CallerKind(principal.kind.value),
        id=strawberry.ID(str(principal.id)),
        name=principal.name,
        role=Role(principal.role.value) if principal.role else None,
        permissions=sorted(p.value for p in expand(principal.permissions)),
    )


async def users(
    info: Info[Context, None], first: First = UNSET, after: AfterCursor = UNSET
) -> UserConnection:
    size = page_size(first, info.context.max_page_size)
    page = await info.context.access.user_page(size, after_of(after))
    edges = [
        UserEdge(cursor=cursor(v.created_at, v.id), node=User.from_view(v)) for v in page.items
    ]
    return UserConnection(edges=edges, page_info=page_info(edges, page.has_next, after))


async def set_user_role(
    info: Info[Context, None],
    user_id: Annotated[
        strawberry.ID, strawberry.argument(description="The person's id (User.id); not yours.")
    ],
    role: Annotated[Role, strawberry.argument(description="Their new role.")],
) -> User:
    ctx = info.context
    command = SetUserRole(
        user_id=parse_id(str(user_id), "userId"),
        role=value_of(role),
        actor=ctx.actor,
        correlation_id=ctx.correlation_id,
        held=held_by(ctx),
        caller=principal.id if (principal := ctx.principal) and principal.role else None,
    )
    return User.from_view(await ctx.bus.handle(command))


@strawberry.type
class UserQuery:
    me: Me = strawberry.field(
        resolver=me,
        description="Who is calling and what they hold. Never null: any valid credentials"
        " may ask, and a call without them is refused whole (HTTP 401).",
        extensions=requires(AUTHENTICATED),
    )
    users: UserConnection | None = strawberry.field(
        resolver=users,
        description="People known from their tokens, newest first.",
        extensions=requires(Permission.USERS_ADMIN),
    )


@strawberry.type
class UserMutation:
    set_user_role: User | None = strawberry.mutation(
        resolver=set_user_role,
        description=(
            "Change a person's role (audited): only with every permission of their current"
            " role and the new one, never your own."
        ),
        extensions=requires(Permission.USERS_ADMIN),
    )
