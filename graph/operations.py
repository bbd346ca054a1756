"""Operations in GraphQL: cacheStats, flushCache, warmCache and replayEvents (cache:admin)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import strawberry
from strawberry import UNSET
from strawberry.types import Info

from app.cache_admin import CacheStats, FlushCache, PrefixStats, WarmCache, Warmed
from app.replay import Replayed, ReplayEvents
from domain.auth.permissions import Permission
from graph.arguments import given
from graph.context import Context
from graph.permissions import requires
from graph.scalars import as_utc


@strawberry.type(description="Cache lookups under one prefix, over every API process.")
class CachePrefixStats:
    prefix: str = strawberry.field(
        description="The cached reads' prefix: `orders`, `order-stats`, ..."
    )
    hits: int = strawberry.field(description="Lookups answered from the cache.")
    misses: int = strawberry.field(description="Lookups that went to the database.")
    ratio: float | None = strawberry.field(
        description="Hits over lookups; null before the first lookup."
    )

    @classmethod
    def of(cls, s: PrefixStats) -> CachePrefixStats:
        return cls(prefix=s.prefix, hits=s.hits, misses=s.misses, ratio=s.ratio)


@strawberry.type(description="One cached read loaded by warmCache.")
class WarmedCacheEntry:
    prefix: str = strawberry.field(description="The prefix it is cached under (flushCache's).")
    name: str = strawberry.field(description="Which read, e.g. `order stats by branch`.")
    items: int = strawberry.field(description="Rows, buckets or the count now cached.")

    @classmethod
    def of(cls, w: Warmed) -> WarmedCacheEntry:
        return cls(prefix=w.prefix, name=w.name, items=w.items)


@strawberry.type(description="What replayEvents re-ran for one event type.")
class ReplayedEvents:
    type: str = strawberry.field(description="The event type, e.g. `order.created`.")
    events: int = strawberry.field(description="Stored events of this type in the window.")
    jobs: int = strawberry.field(description="Jobs derived again and written to the outbox.")
    skipped: int = strawberry.field(description="Stored events that no longer decode.")

    @classmethod
    def of(cls, r: Replayed) -> ReplayedEvents:
        return cls(type=r.type, events=r.events, jobs=r.jobs, skipped=r.skipped)


async def cache_stats(info: Info[Context, None]) -> list[CachePrefixStats]:
    return [CachePrefixStats.of(s) for s in await info.context.bus.handle(CacheStats())]


async def flush_cache(
    info: Info[Context, None],
    pattern: Annotated[
        str,
        strawberry.argument(description="`<prefix>:*` (e.g. `orders:*`) or `*` for every prefix."),
    ],
) -> list[str]:
    ctx = info.context
    flushed: list[str] = await ctx.bus.handle(FlushCache(pattern=pattern, actor=ctx.actor))
    return flushed


async def warm_cache(info: Info[Context, None]) -> list[WarmedCacheEntry]:
    warmed = await info.context.bus.handle(WarmCache(actor=info.context.actor))
    return [WarmedCacheEntry.of(w) for w in warmed]


async def replay_events(
    info: Info[Context, None],
    start: Annotated[
        datetime,
        strawberry.argument(name="from", description="Events that occurred at or after it."),
    ],
    end: Annotated[
        datetime, strawberry.argument(name="to", description="And before it (exclusive).")
    ],
    types: Annotated[
        list[str] | None,
        strawberry.argument(description="Event types, e.g. order.created; all when omitted."),
    ] = UNSET,
) -> list[ReplayedEvents]:
    ctx = info.context
    command = ReplayEvents(
        start=as_utc(start),
        end=as_utc(end),
        types=tuple(types) if given(types) and types is not None else None,
        actor=ctx.actor,
        correlation_id=ctx.correlation_id,
    )
    return [ReplayedEvents.of(r) for r in await ctx.bus.handle(command)]


@strawberry.type
class OperationsQuery:
    cache_stats: list[CachePrefixStats] | None = strawberry.field(
        resolver=cache_stats,
        description=(
            "Cache hits, misses and hit ratio per prefix since the processes started; then the"
            " response cache's, one row per document sent by hash (`response:<sha256>`) and"
            " `response:other` for the rest."
        ),
        extensions=requires(Permission.CACHE_ADMIN),
    )


@strawberry.type
class OperationsMutation:
    flush_cache: list[str] | None = strawberry.mutation(
        resolver=flush_cache,
        description="Evict a prefix (`orders:*`) or everything (`*`); returns the prefixes.",
        extensions=requires(Permission.CACHE_ADMIN),
    )
    warm_cache: list[WarmedCacheEntry] | None = strawberry.mutation(
        resolver=warm_cache,
        description="Load the unprocessed orders and the order stats by branch and status.",
        extensions=requires(Permission.CACHE_ADMIN),
    )
    replay_events: list[ReplayedEvents] | None = strawberry.mutation(
        resolver=replay_events,
        description=(
            "Re-run what stored events caused (their jobs, their in-process handlers), from"
            " `from` to `to`; safe to repeat, since every consumer is idempotent."
        ),
        extensions=requires(Permission.CACHE_ADMIN),
    )
