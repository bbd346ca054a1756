"""Cache decorators for read and write handlers: `@cached` and `@cache_evict`."""

from __future__ import annotations

import contextlib
import functools
import logging
import uuid
from collections.abc import Awaitable, Callable, Coroutine, Sequence
from typing import Any, ParamSpec, Protocol, TypeVar, overload

from app.codec import dumps, loads
from app.errors import Unavailable
from app.ports import Cache, CacheUnavailable

log = logging.getLogger("visapi.cache")

P = ParamSpec("P")
R = TypeVar("R")
T = TypeVar("T")

_GLOB = frozenset("*?[]")
# A cached value that no longer decodes (e.g. a read model changed shape in a deploy) is a miss,
# not an error: the fresh value overwrites it.
_DECODE_ERRORS = (ValueError, TypeError, KeyError, AttributeError)


class Decorator(Protocol):
    """Keeps the wrapped handler's parameters and result type (ParamSpec)."""

    def __call__(self, fn: Callable[P, Awaitable[R]], /) -> Callable[P, Coroutine[Any, Any, R]]: ...


class DecodingDecorator(Protocol[T]):
    """Like `Decorator`, for a `decode` giving `T`: the handler returns `T` or `T | None`."""

    @overload
    def __call__(self, fn: Callable[P, Awaitable[T]], /) -> Callable[P, Coroutine[Any, Any, T]]: ...

    @overload
    def __call__(
        self, fn: Callable[P, Awaitable[T | None]], /
    ) -> Callable[P, Coroutine[Any, Any, T | None]]: ...


def prefix_of(pattern: str) -> str:
    """`"orders:*"` or `"orders"` → `"orders"`; any other glob is a ValueError.

    Generations are per exact prefix, so only "everything under one prefix" can be evicted.
    """
    prefix = pattern.removesuffix(":*")
    if not prefix or _GLOB & set(prefix):
        raise ValueError(f"cache pattern {pattern!r}: use a prefix or 'prefix:*'")
    return prefix


def _cache_of(fn: Callable[..., Any], kwargs: dict[str, Any]) -> Cache | None:
    if "cache" not in kwargs:
        raise TypeError(f"{fn.__qualname__}() needs a `cache` keyword argument (None: no caching)")
    cache: Cache | None = kwargs["cache"]
    return cache


@overload
def cached(
    prefix: str,
    ttl: float,
    key: Callable[..., str],
    decode: None = None,
    encode: Callable[[Any], bytes] = dumps,
    cache_none: bool = False,
) -> Decorator: ...


@overload
def cached(
    prefix: str,
    ttl: float,
    key: Callable[..., str],
    decode: Callable[[bytes], T],
    encode: Callable[[T], bytes] = dumps,
    cache_none: bool = False,
) -> DecodingDecorator[T]: ...


def cached(
    prefix: str,
    ttl: float,
    key: Callable[..., str],
    decode: Callable[[bytes], Any] | None = None,
    encode: Callable[[Any], bytes] = dumps,
    cache_none: bool = False,
) -> Any:
    """Serve a read handler from the cache under `prefix`, computing and storing it on a miss.

    The handler gets the `Cache` as keyword argument `cache` (None disables caching). `key`
    receives the handler's own arguments, dependencies included: `key=lambda q, **_: f"id:{q.id}"`.
    `decode` rebuilds the value (default: plain JSON, e.g. `app.codec.decoder(OrderView)` for a
    read model). None results are not stored unless `cache_none`, so "not found" is not sticky.
    A result is stored only if the prefix was not evicted while it was computed, so a write is
    visible on the next read even when it commits during a concurrent miss.
    """
    prefix = prefix_of(prefix)
    if ttl <= 0:
        raise ValueError(f"cache ttl must be positive, got {ttl}")
    decode_ = decode or loads

    def decorate(fn: Callable[P, Awaitable[Any]]) -> Callable[P, Coroutine[Any, Any, Any]]:
        @functools.wraps(fn)
        async def wrapper(*args: P.args, **kwargs: P.kwargs) -> Any:
            cache = _cache_of(fn, kwargs)
            if cache is None:
                return await fn(*args, **kwargs)
            k = key(*args, **kwargs)
            data, generation = await cache.lookup(prefix, k)
            if data is not None:
                try:
                    return decode_(data)
                except _DECODE_ERRORS:
                    log.warning("cache entry %s:%s does not decode; recomputing", prefix, k)
            value = await fn(*args, **kwargs)
            # Stored only in the generation looked in: if a write evicted the prefix meanwhile,
            # `value` may predate it and is dropped. No generation: the cache is unreachable.
            if generation is not None and (value is not None or cache_none):
                await cache.set(prefix, k, encode(value), ttl, generation=generation)
            return value

        return wrapper

    return decorate


def cache_evict(prefix: str | Sequence[str]) -> Decorator:
    """After the handler returns (not when it raises), evict every key of the prefix(es).

    Accepts `"orders"` or `"orders:*"`; other globs are rejected here, at decoration time.
    """
    prefixes = [prefix_of(p) for p in ([prefix] if isinstance(prefix, str) else prefix)]

    def decorate(fn: Callable[P, Awaitable[R]]) -> Callable[P, Coroutine[Any, Any, R]]:
        @functools.wraps(fn)
        async def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
            cache = _cache_of(fn, kwargs)
            result = await fn(*args, **kwargs)
            await evict(cache, *prefixes)
            return result

        return wrapper

    return decorate


async def evict(cache: Cache | None, *patterns: str) -> None:
    """Evict prefixes or `prefix:*` patterns from code, e.g. in event handlers."""
    prefixes = [prefix_of(p) for p in patterns]
    if cache is None:
        return
    await cache.evict(*prefixes)


class Unconfirmed(Unavailable):
    """The change is committed, but the eviction after its commit was not confirmed.

    `result` is what the change returned (a rotated key's new secret must not be lost).
    """

    def __init__(self, message: str, result: object) -> None:
        super().__init__(message)
        self.result = result


async def invalidating(
    cache: Cache | None, prefix: str, change: Callable[[], Awaitable[R]], *, what: str
) -> R:
    """Run `change` (one committed transaction) so that nothing cached under `prefix` before
    its commit is served after it, on any process, whatever the cache does meanwhile.

    For credentials (`@cache_evict` is best effort: a revoked key came back after Redis did).
    A concurrent check runs lookup (reads generation G) → database read → hash → store (only
    into G, and only while no seal holds). Against each step:
    1. `seal` bumps the generation and refuses stores. Not confirmed: Unavailable, nothing
       changed. Every check that looked up before it stores into a dead generation.
    2. commit. A check looking up between 1 and 2 may read the old row, but cannot store it.
    3. `unseal` bumps the generation again: whatever a check looked up before it is dead, and
       a check looking up after it reads the committed row. Confirmed: success.
    If 3 is not confirmed, the answer is `Unconfirmed`, not success, and nothing stale can
    exist: entries of before 1 are in a dead generation, none were stored under the seal (a
    store queued in a stopped Redis is refused when it runs), and a Redis that lost its data
    lost them too. The seal holds until `SEAL_LEASE_S`; its lapse evicts once more. Left
    open: Redis losing its data between 1 and 2 and failing again at 3 (then only the
    re-read of `check_key` guards), and a Redis restored from an older snapshot.
    """
    if cache is None:
        return await change()
    token = uuid.uuid4().hex
    try:
        await cache.seal(prefix, token)
    except CacheUnavailable:
        raise Unavailable(
            f"the cache (Redis) is unreachable, so {what} cannot be evicted from every process:"
            " nothing was changed; try again when it is back"
        ) from None
    try:
        result = await change()
    except BaseException:
        # Lift the seal now rather than at its lease (an unseal is one more eviction: right,
        # whatever the failed change did or did not commit).
        with contextlib.suppress(CacheUnavailable):
            await cache.unseal(prefix, token)
        raise
    try:
        await cache.unseal(prefix, token)
    except CacheUnavailable:
        log.warning("cache: %s committed, eviction not confirmed (Redis unreachable)", what)
        raise Unconfirmed(
            f"the change is saved, but the cache (Redis) did not confirm evicting {what}:"
            " cached entries stay refused; repeat the change when Redis is back to confirm it",
            result,
        ) from None
    return result
