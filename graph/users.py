"""People and callers in GraphQL: me, users and setUserRole."""

from __future__ import annotations

from datetime import datetime
from enum import Enum

import strawberry
from strawberry import UNSET
from strawberry.types import Info

from app.auth.commands import SetUserRole
from app.auth.ports import UserView
from domain.auth.permissions import Permission, expand
from graph.arguments import parse_id
from graph.context import Context
from graph.keys import held_by
from graph.pagination import PageInfo, after_of, cursor, page_info, page_size
from graph.permissions import AUTHENTICATED, requires


@strawberry.enum
class Role(Enum):
    VIEWER = "viewer"
    OPERATOR = "operator"
    ADMIN = "admin"


@strawberry.enum
class CallerKind(Enum):
    API_KEY = "api_key"
    USER = "user"


@strawberry.type(description="A person, created on their first valid token with role VIEWER.")
class User:
    id: strawberry.ID
    # Staff, not customers: read by whoever manages users. Every path to a User needs that
    # already, so the field stays non-null.
    email: str = strawberry.field(extensions=requires(Permission.USERS_ADMIN))
    role: Role
    created_at: datetime

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
    kind: CallerKind
    id: strawberry.ID = strawberry.field(description="The key's or the user's id.")
    name: str = strawberry.field(description="The key's name or the user's email.")
    role: Role | None = strawberry.field(description="Users only.")
    permissions: list[str] = strawberry.field(description="Every permission held, spelled out.")


@strawberry.type
class UserEdge:
    cursor: str
    node: User


@strawberry.type
class UserConnection:
    edges: list[UserEdge]
    page_info: PageInfo

    @strawberry.field
    async def total_count(self, info: Info[Context, None]) -> int:
        return await info.context.access.count_users()


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
    info: Info[Context, None], first: int | None = UNSET, after: str | None = UNSET
) -> UserConnection:
    size = page_size(first, info.context.max_page_size)
    page = await info.context.access.user_page(size, after_of(after))
    edges = [
        UserEdge(cursor=cursor(v.created_at, v.id), node=User.from_view(v)) for v in page.items
    ]
    return UserConnection(edges=edges, page_info=page_info(edges, page.has_next))


async def set_user_role(info: Info[Context, None], user_id: strawberry.ID, role: Role) -> User:
    ctx = info.context
    command = SetUserRole(
        user_id=parse_id(str(user_id), "userId"),
        role=role.value,
        actor=ctx.actor,
        correlation_id=ctx.correlation_id,
        held=held_by(ctx),
        caller=principal.id if (principal := ctx.principal) and principal.role else None,
    )
    return User.from_view(await ctx.bus.handle(command))


@strawberry.type
class UserQuery:
    me: Me = strawberry.field(resolver=me, extensions=requires(AUTHENTICATED))
    users: UserConnection = strawberry.field(
        resolver=users,
        description="People known from their tokens, newest first.",
        extensions=requires(Permission.USERS_ADMIN),
    )


@strawberry.type
class UserMutation:
    set_user_role: User = strawberry.mutation(
        resolver=set_user_role,
        description=(
            "Change a person's role (audited): only with every permission of their current"
            " role and the new one, never your own."
        ),
        extensions=requires(Permission.USERS_ADMIN),
    )
