"""User handlers: create a user on their first valid token, and change a user's role."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from uuid import UUID

from app.auth.commands import SetUserRole
from app.auth.ports import AccessReads, Claims, UserAlreadyExists, UserView
from app.cache import cache_evict
from app.errors import NotFound, Unauthenticated
from app.ports import Cache, UnitOfWorkFactory
from domain.auth.permissions import parse_role
from domain.auth.users import User
from domain.errors import DomainError

# Cache prefix of users by token subject (app.auth.authenticate); a role change evicts it.
USERS = "users"


def user_view(user: User) -> UserView:
    return UserView(
        id=user.id,
        email=user.email,
        role=user.role,
        external_subject=user.external_subject,
        created_at=user.created_at,
    )


async def ensure_user(
    claims: Claims,
    *,
    uow: UnitOfWorkFactory,
    reads: AccessReads,
    now: Callable[[], datetime],
    new_id: Callable[[], UUID],
) -> UserView:
    """The token's user, created with role viewer when this is their first valid token."""
    found = await reads.user_by_subject(claims.subject)
    if found is not None:
        return found
    try:
        user = User.first_seen(id=new_id(), email=claims.email, subject=claims.subject, now=now())
    except DomainError as exc:
        raise Unauthenticated(f"unusable token: {exc.message}") from None
    try:
        async with uow(actor=f"user:{user.id}") as unit:
            await unit.users.add(user)
            unit.record(user.events)
            await unit.commit()
    except UserAlreadyExists:
        # Either a concurrent first request won (then the row is theirs and ours), or the
        # email belongs to another identity, which must not be taken over.
        found = await reads.user_by_subject(claims.subject)
        if found is None:
            raise Unauthenticated("this email is registered to another identity") from None
        return found
    return user_view(user)


@cache_evict(USERS)
async def set_user_role(
    cmd: SetUserRole,
    *,
    uow: UnitOfWorkFactory,
    cache: Cache | None,
    now: Callable[[], datetime],
) -> UserView:
    role = parse_role(cmd.role)
    async with uow(actor=cmd.actor, correlation_id=cmd.correlation_id) as unit:
        user = await unit.users.get(cmd.user_id)
        if user is None:
            raise NotFound("no user has this id", field="userId")
        if user.set_role(role, now=now(), actor=cmd.actor):
            await unit.users.save(user)
            unit.record(user.events)
            await unit.commit()
    return user_view(user)
