"""Cache decorators for read and write handlers: `@cached`, `@cache_evict`, `@cache_put`."""

from __future__ import annotations

import functools
import logging
from collections.abc import Awaitable, Callable, Coroutine, Sequence
from typing import Any, ParamSpec, Protocol, TypeVar, overload

from app.codec import dumps, loads
from app.ports import Cache

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


def cache_put(
    prefix: str, ttl: float, key: Callable[..., str], encode: Callable[[Any], bytes] = dumps
) -> Decorator:
    """After the handler returns, store its result under `key(*args, **kwargs)` (None is skipped).

    `key` sees the handler's arguments, as with `@cached`, so a read with the same key hits.
    """
    prefix = prefix_of(prefix)
    if ttl <= 0:
        raise ValueError(f"cache ttl must be positive, got {ttl}")

    def decorate(fn: Callable[P, Awaitable[R]]) -> Callable[P, Coroutine[Any, Any, R]]:
        @functools.wraps(fn)
        async def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
            cache = _cache_of(fn, kwargs)
            result = await fn(*args, **kwargs)
            if cache is not None and result is not None:
                await cache.set(prefix, key(*args, **kwargs), encode(result), ttl)
            return result

        return wrapper

    return decorate


async def evict(cache: Cache | None, *patterns: str) -> None:
    """Evict prefixes or `prefix:*` patterns from code, e.g. in event handlers."""
    prefixes = [prefix_of(p) for p in patterns]
    if cache is None:
        return
    await cache.evict(*prefixes)
