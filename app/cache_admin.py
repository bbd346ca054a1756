"""Cache administration: hit/miss stats per prefix, flush by pattern, warm the dashboard reads."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass

from app.auth.keys import KEY_CHECKS
from app.auth.users import USERS
from app.cache import prefix_of
from app.errors import InvalidInput
from app.logs.queries import LOG_STATS
from app.orders.queries import ORDER, ORDER_STATS, ORDERS, OrderQueries
from app.orders.views import StatsGroup
from app.ports import Cache
from app.workflows.queries import ENABLED, WorkflowQueries
from app.workflows.queries import ENABLED as WORKFLOWS_ENABLED
from domain.orders.specs import unprocessed

Totals = dict[str, tuple[int, int]]  # label -> (hits, misses)

log = logging.getLogger("visapi.cache")

# Every prefix the application caches under; flushCache refuses others (a typo must not pass
# for a flush). A feature adding a cached read adds its prefix here.
KNOWN_PREFIXES: tuple[str, ...] = (
    ORDER,
    ORDERS,
    ORDER_STATS,
    KEY_CHECKS,
    USERS,
    LOG_STATS,
    WORKFLOWS_ENABLED,
)
# The dashboard's first page: what `orders(filter: {unprocessed: true})` asks without `first`.
WARM_PAGE_SIZE = 20
WARM_STATS = (StatsGroup.BRANCH, StatsGroup.STATUS)


@dataclass(frozen=True)
class CacheStats:
    """Query: hit and miss counts per prefix."""


@dataclass(frozen=True)
class FlushCache:
    pattern: str  # "orders:*", "orders" or "*"
    actor: str | None = None


@dataclass(frozen=True)
class WarmCache:
    actor: str | None = None


@dataclass(frozen=True)
class PrefixStats:
    prefix: str
    hits: int
    misses: int

    @property
    def ratio(self) -> float | None:
        """Hits over lookups; None before the first lookup."""
        lookups = self.hits + self.misses
        return self.hits / lookups if lookups else None


@dataclass(frozen=True)
class Warmed:
    prefix: str
    name: str  # what was loaded, e.g. "order stats by branch"
    items: int  # rows or buckets now cached


# The response cache's rows in cacheStats: `response:<document hash>` per document sent by
# hash, `response:other` for the rest (app.responses).
RESPONSE_ROWS = "response:"


async def cache_stats(
    query: CacheStats,
    *,
    totals: Callable[[], Awaitable[tuple[Totals, Totals]]],
) -> list[PrefixStats]:
    """Every known prefix (zeros before its first lookup) and any other prefix counted, then
    the response cache's hits and misses per document: over every process of the deployment,
    workers included, when they share their counts (Redis)."""
    counted, by_document = await totals()
    prefixes = sorted(set(KNOWN_PREFIXES) | set(counted))
    rows = [PrefixStats(p, *counted.get(p, (0, 0))) for p in prefixes]
    return rows + [PrefixStats(RESPONSE_ROWS + d, *by_document[d]) for d in sorted(by_document)]


def prefixes_of(pattern: str, known: Sequence[str] = KNOWN_PREFIXES) -> list[str]:
    """The prefixes a flush pattern names: `*` all, `orders:*` or `orders` one known prefix."""
    listed = ", ".join(known)
    text = pattern.strip()
    if text == "*":
        return list(known)
    try:
        prefix = prefix_of(text)
    except ValueError:
        raise InvalidInput(
            f"pattern {pattern[:64]!r}: use '<prefix>:*' or '*'; known prefixes: {listed}",
            field="pattern",
        ) from None
    if prefix not in known:
        raise InvalidInput(
            f"unknown cache prefix {prefix[:64]!r}; known prefixes: {listed}", field="pattern"
        )
    return [prefix]


async def flush_cache(cmd: FlushCache, *, cache: Cache) -> list[str]:
    """Evict every key of the named prefixes (one generation bump each, on every process)."""
    prefixes = prefixes_of(cmd.pattern)
    for prefix in prefixes:
        await cache.evict(prefix)
    log.info("cache flushed by %s: %s", cmd.actor or "unknown", ", ".join(prefixes))
    return prefixes


async def warm_cache(
    cmd: WarmCache, *, orders: OrderQueries, workflows: WorkflowQueries | None = None
) -> list[Warmed]:
    """Load what the dashboard asks first through the cached read handlers: an entry already
    cached is left as it is (a hit), a missing one is read from the database and stored."""
    page = await orders.unprocessed_orders(WARM_PAGE_SIZE)
    count = await orders.count_orders(unprocessed())
    warmed = [
        Warmed(ORDERS, f"unprocessed orders, first {WARM_PAGE_SIZE}", len(page.items)),
        Warmed(ORDERS, "unprocessed orders count", count),
    ]
    for group in WARM_STATS:
        buckets = await orders.order_stats(None, group)
        warmed.append(Warmed(ORDER_STATS, f"order stats by {group.value}", len(buckets)))
    if workflows is not None:
        # What every order's intake reads first: the workflows its country may start.
        enabled = await workflows.enabled()
        warmed.append(Warmed(ENABLED, "enabled workflows", len(enabled)))
    log.info("cache warmed by %s: %d entries", cmd.actor or "unknown", len(warmed))
    return warmed
