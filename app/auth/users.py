"""User handlers: create a user on their first valid token, and change a user's role.

A role change needs every permission of the user's current role and of the new one (so only
an admin makes or unmakes admins), and nobody changes their own role."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from uuid import UUID

from app.auth.commands import SetUserRole
from app.auth.ports import AccessReads, Claims, UserAlreadyExists, UserView
from app.cache import invalidating
from app.errors import Forbidden, NotFound, Unauthenticated
from app.logs.ports import LogLevel
from app.ports import Cache, UnitOfWorkFactory
from domain.auth.permissions import ROLE_PERMISSIONS, Permission, Role, lacking, parse_role
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
            unit.logs.add(
                LogLevel.INFO,
                f"user {user.id} first seen, role {user.role.value}",
                metadata={"user_id": str(user.id), "role": user.role.value},
            )
            await unit.commit()
    except UserAlreadyExists:
        # Either a concurrent first request won (then the row is theirs and ours), or the
        # email belongs to another identity, which must not be taken over.
        found = await reads.user_by_subject(claims.subject)
        if found is None:
            raise Unauthenticated("this email is registered to another identity") from None
        return found
    return user_view(user)


def _may_change(user: User, role: Role, cmd: SetUserRole) -> None:
    if cmd.caller is not None and cmd.caller == user.id:
        raise Forbidden("nobody changes their own role", field="userId")
    if cmd.held is None:
        return
    needed: frozenset[Permission] = ROLE_PERMISSIONS[user.role] | ROLE_PERMISSIONS[role]
    if beyond := lacking(cmd.held, needed):
        raise Forbidden(
            f"cannot change a role from {user.role.value} to {role.value}: it needs"
            f" {', '.join(beyond)}, which the caller does not hold",
            field="role",
        )


async def set_user_role(
    cmd: SetUserRole,
    *,
    uow: UnitOfWorkFactory,
    cache: Cache | None,
    now: Callable[[], datetime],
) -> UserView:
    role = parse_role(cmd.role)

    async def change() -> UserView:
        async with uow(actor=cmd.actor, correlation_id=cmd.correlation_id) as unit:
            user = await unit.users.get(cmd.user_id)
            if user is None:
                raise NotFound("no user has this id", field="userId")
            _may_change(user, role, cmd)
            # Unchanged still confirms the eviction (see app.auth.keys.revoke_api_key).
            before = user.role
            if user.set_role(role, now=now(), actor=cmd.actor):
                await unit.users.save(user)
                unit.record(user.events)
                unit.logs.add(
                    LogLevel.INFO,
                    f"user {user.id} role changed from {before.value} to {role.value}"
                    f" by {cmd.actor or 'the system'}",
                    metadata={"user_id": str(user.id), "from": before.value, "to": role.value},
                )
                await unit.commit()
        return user_view(user)

    return await invalidating(cache, USERS, change, what="the user's cached role")
