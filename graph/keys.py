"""API keys in GraphQL: apiKeys (never a hash or secret), createApiKey, revoke, rotate."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import strawberry
from graphql import GraphQLError
from strawberry import UNSET
from strawberry.types import Info

from app.auth.commands import CreateApiKey, IssuedKey, RevokeApiKey, RotateApiKey
from app.auth.ports import KeyView
from app.cache import Unconfirmed
from domain.auth.permissions import Permission
from graph.arguments import given, parse_id
from graph.context import Context
from graph.pagination import AfterCursor, First, PageInfo, after_of, cursor, page_info, page_size
from graph.permissions import requires

_DAYS = "Days until the key expires (1 to 3650); 90 when omitted."
KeyId = Annotated[strawberry.ID, strawberry.argument(description="The key's id (ApiKey.id).")]


def held_by(ctx: Context) -> frozenset[Permission]:
    """What the caller holds: the limit of what it may grant, revoke, rotate or change."""
    return ctx.principal.permissions if ctx.principal else frozenset()


@strawberry.type(description="An API key as stored: never its hash, never its secret.")
class ApiKey:
    id: strawberry.ID = strawberry.field(description="The key's id (a uuid).")
    name: str = strawberry.field(description="What the key is for, as its creator named it.")
    prefix: str = strawberry.field(description="The public part before the dot.")
    scopes: list[str] = strawberry.field(
        description="The permissions it grants: `orders:read`, ..., or `admin` for all."
    )
    expires_at: datetime = strawberry.field(
        description="When it stops working (UTC); rotating sets a new one."
    )
    created_by: str | None = strawberry.field(
        description="Who made it: `key:<prefix>`, `user:<id>`, `cli`, ...; null when unknown."
    )
    created_at: datetime = strawberry.field(description="When it was made (UTC).")
    last_used_at: datetime | None = strawberry.field(
        description="Updated in batches every few minutes, not on every request."
    )
    revoked_at: datetime | None = strawberry.field(
        description="When it was revoked (UTC); null while it is not."
    )

    @classmethod
    def from_view(cls, v: KeyView) -> ApiKey:
        return cls(
            id=strawberry.ID(str(v.id)),
            name=v.name,
            prefix=v.prefix,
            scopes=list(v.scopes),
            expires_at=v.expires_at,
            created_by=v.created_by,
            created_at=v.created_at,
            last_used_at=v.last_used_at,
            revoked_at=v.revoked_at,
        )


@strawberry.type(description="A key just created or rotated.")
class IssuedApiKey:
    api_key: ApiKey = strawberry.field(description="The key as stored (no secret).")
    secret: str = strawberry.field(
        description="The full key `<prefix>.<secret>`: shown this once, store it now."
    )

    @classmethod
    def of(cls, issued: IssuedKey) -> IssuedApiKey:
        return cls(api_key=ApiKey.from_view(issued.key), secret=issued.secret)


@strawberry.type(description="One API key of a page, with its position.")
class ApiKeyEdge:
    cursor: str = strawberry.field(description="Opaque position: pass it as `after`.")
    node: ApiKey = strawberry.field(description="The key.")


@strawberry.type(description="A page of API keys, newest first.")
class ApiKeyConnection:
    edges: list[ApiKeyEdge] = strawberry.field(description="This page's keys, newest first.")
    page_info: PageInfo = strawberry.field(description="Where this page sits; how to go on.")

    async def _total_count(self, info: Info[Context, None]) -> int:
        return await info.context.access.count_keys()

    total_count: int = strawberry.field(
        resolver=_total_count, description="Keys stored, revoked and expired ones included."
    )


async def api_keys(
    info: Info[Context, None], first: First = UNSET, after: AfterCursor = UNSET
) -> ApiKeyConnection:
    size = page_size(first, info.context.max_page_size)
    page = await info.context.access.key_page(size, after_of(after))
    edges = [
        ApiKeyEdge(cursor=cursor(v.created_at, v.id), node=ApiKey.from_view(v)) for v in page.items
    ]
    return ApiKeyConnection(edges=edges, page_info=page_info(edges, page.has_next, after))


async def create_api_key(
    info: Info[Context, None],
    name: Annotated[str, strawberry.argument(description="What the key is for (1-100 chars).")],
    scopes: Annotated[
        list[str],
        strawberry.argument(
            description="Permissions it grants (`orders:read`, ..., `admin`): only ones you hold."
        ),
    ],
    expires_in_days: Annotated[int | None, strawberry.argument(description=_DAYS)] = UNSET,
) -> IssuedApiKey:
    ctx = info.context
    command = CreateApiKey(
        name=name,
        scopes=tuple(scopes),
        expires_in_days=expires_in_days if given(expires_in_days) else None,
        actor=ctx.actor,
        correlation_id=ctx.correlation_id,
        held=held_by(ctx),
    )
    return IssuedApiKey.of(await ctx.bus.handle(command))


async def revoke_api_key(info: Info[Context, None], id: KeyId) -> ApiKey:
    ctx = info.context
    command = RevokeApiKey(
        id=parse_id(str(id), "id"),
        actor=ctx.actor,
        correlation_id=ctx.correlation_id,
        held=held_by(ctx),
    )
    return ApiKey.from_view(await ctx.bus.handle(command))


async def rotate_api_key(
    info: Info[Context, None],
    id: KeyId,
    expires_in_days: Annotated[int | None, strawberry.argument(description=_DAYS)] = UNSET,
) -> IssuedApiKey:
    ctx = info.context
    command = RotateApiKey(
        id=parse_id(str(id), "id"),
        expires_in_days=expires_in_days if given(expires_in_days) else None,
        actor=ctx.actor,
        correlation_id=ctx.correlation_id,
        held=held_by(ctx),
    )
    try:
        return IssuedApiKey.of(await ctx.bus.handle(command))
    except Unconfirmed as exc:
        # Committed: the new secret is the only way into the key now, so it is answered, with
        # the error beside it (data and errors together) rather than lost.
        if not isinstance(exc.result, IssuedKey):
            raise
        path = info.path.as_list()
        ctx.add_error(GraphQLError(exc.message, path=path, extensions={"code": exc.code}))
        return IssuedApiKey.of(exc.result)


@strawberry.type
class KeyQuery:
    api_keys: ApiKeyConnection | None = strawberry.field(
        resolver=api_keys,
        description="API keys, newest first (revoked and expired ones included).",
        extensions=requires(Permission.KEYS_READ),
    )


@strawberry.type
class KeyMutation:
    create_api_key: IssuedApiKey | None = strawberry.mutation(
        resolver=create_api_key,
        description="Create a key with scopes you hold yourself; its secret is shown once.",
        extensions=requires(Permission.KEYS_WRITE),
    )
    revoke_api_key: ApiKey | None = strawberry.mutation(
        resolver=revoke_api_key,
        description=(
            "Revoke a key at once, on every API process: only a key whose every scope you hold."
            " UNAVAILABLE when Redis cannot confirm the eviction of its cached checks."
        ),
        extensions=requires(Permission.KEYS_WRITE),
    )
    rotate_api_key: IssuedApiKey | None = strawberry.mutation(
        resolver=rotate_api_key,
        description=(
            "Give a key a new secret (the old one stops working) and a new expiry: only a key"
            " whose every scope you hold. If Redis cannot confirm the eviction of the old"
            " secret's cached checks, the new secret comes with an UNAVAILABLE error."
        ),
        extensions=requires(Permission.KEYS_WRITE),
    )
